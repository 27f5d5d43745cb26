import { describe, expect, it } from 'vitest';
import { buildTimeline, peakPassedProbability, type TimelineVisitInput } from '../../core/cvm/timeline';
import type { CvmStage } from '../../core/cvm/types';
import { recogniseCephalogram } from '../../main/pacs/recognise';
import { probabilitiesOf } from '../../main/pacs/results';
import { parseMultipart } from '../../main/pacs/client';
import { ds } from '../../main/pacs/sr';

const visit = (
  imageId: number,
  ageYears: number | null,
  stage: CvmStage | null,
  probabilities: TimelineVisitInput['probabilities'] = null,
): TimelineVisitInput => ({
  imageId,
  ageYears,
  stage,
  probabilities,
  studyDate: ageYears === null ? null : `${2000 + Math.floor(ageYears)}-01-01`,
  reviewStatus: 'approved',
});

describe('growth across visits', () => {
  it.each([
    [
      'two visits either side of the peak',
      [visit(1, 12.1, 'CS3'), visit(2, 13.4, 'CS4')],
      'passed-between',
      'Peak likely passed between 12.1 and 13.4 years (CS3 then CS4).',
    ],
    [
      'visits given out of order are sorted by age',
      [visit(2, 13.4, 'CS5'), visit(1, 11.0, 'CS2'), visit(3, 12.2, 'CS4')],
      'passed-between',
      'Peak likely passed between 11.0 and 12.2 years (CS2 then CS4).',
    ],
    [
      'all before the peak, last CS3',
      [visit(1, 10, 'CS2'), visit(2, 11, 'CS3')],
      'imminent',
      'Peak expected within the year after 11.0 years (CS3 at the last visit).',
    ],
    [
      'all well before the peak',
      [visit(1, 9, 'CS1'), visit(2, 10, 'CS2')],
      'ahead',
      'Peak still ahead after 10.0 years (CS2 at the last visit).',
    ],
    [
      'first visit already after the peak',
      [visit(1, 14, 'CS5')],
      'passed-before',
      'Peak likely passed before 14.0 years (the first visit is already CS5).',
    ],
    ['no stage at all', [visit(1, 14, null)], 'no-stage', 'No visit has a stage yet.'],
  ] as const)('%s', (_name, visits, kind, text) => {
    const t = buildTimeline(visits);
    expect(t.peak.kind).toBe(kind);
    expect(t.peak.text).toBe(text);
  });

  it('uses the stage probabilities when there are some: a CS3 whose P(CS4..CS6) is over one half counts as past the peak', () => {
    const t = buildTimeline([
      visit(1, 11, 'CS2'),
      visit(2, 12, 'CS3', { CS3: 0.4, CS4: 0.5, CS5: 0.1 }),
      visit(3, 13, 'CS4'),
    ]);
    expect(t.visits.map((v) => v.pPeakPassed)).toEqual([0, 0.6, 1]);
    expect(t.peak.text).toBe('Peak likely passed between 11.0 and 12.0 years (CS2 then CS3).');
  });

  it('flags visits that go back in stage', () => {
    const t = buildTimeline([visit(1, 12, 'CS4'), visit(2, 13, 'CS3')]);
    expect(t.inconsistencies).toEqual([
      'The stage goes back from CS4 at 12.0 years to CS3 at 13.0 years: check the landmarks of both visits.',
    ]);
  });

  it('falls back to dates when ages are unknown', () => {
    const t = buildTimeline([
      { ...visit(1, null, 'CS3'), studyDate: '2017-01-05' },
      { ...visit(2, null, 'CS4'), studyDate: '2018-02-01' },
    ]);
    expect(t.peak.text).toBe('Peak likely passed between 2017-01-05 and 2018-02-01 (CS3 then CS4).');
  });

  it('P(peak passed) normalises probabilities and is null without a stage', () => {
    expect(peakPassedProbability(null, null)).toBeNull();
    expect(peakPassedProbability('CS4', null)).toBe(1);
    expect(peakPassedProbability('CS3', { CS3: 2, CS4: 2 })).toBe(0.5);
  });
});

describe('recognising a lateral cephalogram from its DICOM header', () => {
  const base = {
    sopClassUid: '1.2.840.10008.5.1.4.1.1.1',
    modality: 'CR',
    bodyPart: 'SKULL',
    viewPosition: 'LL',
    seriesDescription: null,
  };
  it.each([
    ['CR skull lateral', base, true, /modality CR, body part SKULL, view LL/],
    [
      'DX without body part or view',
      { ...base, sopClassUid: '1.2.840.10008.5.1.4.1.1.1.1', modality: 'DX', bodyPart: null, viewPosition: null },
      true,
      /does not state the body part or view/,
    ],
    ['a hip', { ...base, bodyPart: 'HIP' }, false, /body part HIP is not the head or neck/],
    ['a PA skull', { ...base, viewPosition: 'PA' }, false, /view PA is not lateral/],
    ['a panoramic', { ...base, modality: 'PX' }, false, /panoramic/],
    [
      'an SR',
      { ...base, sopClassUid: '1.2.840.10008.5.1.4.1.1.88.33', modality: 'SR' },
      false,
      /SOP class .* is not a radiograph image/,
    ],
    [
      'a series called "Ceph lat" overrides an odd body part',
      { ...base, bodyPart: 'OTHER', seriesDescription: 'Ceph lat' },
      true,
      /series "Ceph lat"/,
    ],
  ] as const)('%s', (_n, attrs, ceph, text) => {
    const r = recogniseCephalogram(attrs);
    expect(r.cephalogram).toBe(ceph);
    expect(r.cephalogram ? r.note : r.reason).toMatch(text);
  });
});

describe('small pieces', () => {
  it('reads stage probabilities as an object or an array of six, on the assessment or its result', () => {
    expect(probabilitiesOf({ probabilities: { CS1: 0.1, CS2: 0.9 } })).toEqual({ CS1: 0.1, CS2: 0.9 });
    expect(probabilitiesOf({ result: { probabilities: [0, 0, 0.2, 0.8, 0, 0] } })).toEqual({
      CS1: 0,
      CS2: 0,
      CS3: 0.2,
      CS4: 0.8,
      CS5: 0,
      CS6: 0,
    });
    expect(probabilitiesOf({ ok: true, result: { kind: 'stage' } })).toBeNull();
  });

  it('writes decimal strings of at most 16 characters', () => {
    for (const v of [0, 1, -1.5, 1 / 3, 123456.789012345, 1e-9, -98765.4321098765]) {
      expect(ds(v).length).toBeLessThanOrEqual(16);
      expect(Number(ds(v))).toBeCloseTo(v, 6);
    }
  });

  it('splits multipart/related bodies and refuses a truncated one', () => {
    const body = Buffer.from(
      '--b1\r\nContent-Type: application/dicom\r\n\r\nAB\r\n--b1\r\nContent-Type: application/dicom\r\n\r\nCD\r\n--b1--\r\n',
      'latin1',
    );
    expect(
      parseMultipart(body, 'multipart/related; type="application/dicom"; boundary=b1').map((p) => p.body.toString()),
    ).toEqual(['AB', 'CD']);
    expect(() => parseMultipart(body.subarray(0, 50), 'multipart/related; boundary="b1"')).toThrow(/truncated/);
  });
});
