import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { imagePoint } from '../../core/geometry/index';
import type { LandmarkName, LandmarkSet } from '../../core/landmarks/index';
import { approvalDecision, modelQualityOf } from '../../core/review/approval';
import { checkPlausibility } from '../../core/review/plausibility';
import { syntheticPoints } from '../../main/cli/bench/synthetic';
import { HAS_SHARED_DATA, sharedPath } from '../shared-data';

function set(points: Partial<Record<LandmarkName, readonly [number, number]>>): LandmarkSet {
  const out: LandmarkSet = {};
  for (const [n, p] of Object.entries(points)) out[n as LandmarkName] = imagePoint(p[0], p[1]);
  return out;
}

const cs4 = set(syntheticPoints('CS4'));
const moved = (s: LandmarkSet, name: LandmarkName, dx: number, dy: number): LandmarkSet => ({
  ...s,
  [name]: imagePoint(s[name]!.x + dx, s[name]!.y + dy),
});
const spacing = { rowMm: 0.1, colMm: 0.1 };

describe('anatomical plausibility of a landmark set', () => {
  it('a normal spine is ok', () => {
    expect(checkPlausibility(cs4, spacing).verdict).toBe('ok');
  });

  it('a C4 whose anterior side shrinks to 5% of the posterior one is collapsed and implausible', () => {
    const c4ua = cs4.C4ua!;
    const c4la = cs4.C4la!;
    const collapsed = {
      ...cs4,
      C4ua: imagePoint(c4la.x + (c4ua.x - c4la.x) * 0.05, c4la.y + (c4ua.y - c4la.y) * 0.05),
    };
    const r = checkPlausibility(collapsed, spacing);
    expect(r.verdict).toBe('implausible');
    expect(r.problems[0]!.code).toBe('collapsed');
    expect(r.landmarks).toContain('C4ua');
  });

  it('dragging C3 down into C4 (7 mm) makes the bodies overlap or cross', () => {
    let s = cs4;
    const h = Math.hypot(cs4.C3up!.x - cs4.C3lp!.x, cs4.C3up!.y - cs4.C3lp!.y);
    for (const n of ['C3lp', 'C3m', 'C3la'] as const) s = moved(s, n, 0, 1.5 * h); // y down: past the top of C4
    const r = checkPlausibility(s, spacing);
    expect(r.verdict).toBe('implausible');
    expect(r.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['order']));
  });

  it('swapping two corners of C3 twists its outline', () => {
    const r = checkPlausibility({ ...cs4, C3ua: cs4.C3la!, C3la: cs4.C3ua! }, spacing);
    expect(r.problems.map((p) => p.code)).toContain('twisted');
  });

  it('a deepest point far off its border is implausible', () => {
    const chord = Math.hypot(cs4.C3la!.x - cs4.C3lp!.x, cs4.C3la!.y - cs4.C3lp!.y);
    const r = checkPlausibility(moved(cs4, 'C3m', 0, -0.6 * chord), spacing);
    expect(r.problems.map((p) => p.code)).toContain('deepest-off-border');
  });

  it('missing landmarks are reported as such', () => {
    const { C4m: _, ...rest } = cs4;
    expect(checkPlausibility(rest).problems[0]!.code).toBe('incomplete');
  });

  it.skipIf(!HAS_SHARED_DATA)('no real spine of cvm13 is implausible, and only annotation errors of cvm900 are', () => {
    const verdicts = new Map<string, string>();
    for (const file of [sharedPath('cvm900', 'cvm900_train.json'), sharedPath('cvm13', 'annotations.json')]) {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as {
        images: Record<string, { points: Record<string, [number, number]> }>;
      };
      for (const [id, image] of Object.entries(doc.images))
        verdicts.set(
          `${file.includes('cvm900') ? 'cvm900' : 'cvm13'}/${id}`,
          checkPlausibility(set(image.points as never)).verdict,
        );
    }
    const flagged = [...verdicts].filter(([, v]) => v !== 'ok').map(([id]) => id);
    expect(verdicts.size).toBe(774);
    // 0169 and 0224: C3m annotated on the upper part of C3 (above C2 in 0224); 0770: C3la below the top of C4.
    expect(flagged.sort()).toEqual(['cvm900/0169', 'cvm900/0224', 'cvm900/0770']);
  });
});

describe('the approval rules', () => {
  const base = { ai: cs4, spacing, quality: modelQualityOf({ verdict: 'ok', problems: [] }), stageError: null };

  it('refuses without landmarks', () => {
    expect(approvalDecision({ ...base, landmarks: null }).kind).toBe('refused');
    expect(approvalDecision({ ...base, landmarks: {} }).kind).toBe('refused');
  });

  it('allows a plausible spine the model was sure of', () => {
    expect(approvalDecision({ ...base, landmarks: cs4 }).kind).toBe('allowed');
  });

  it('refuses the unmoved prediction of a run that found no C2-C4 (a hand radiograph)', () => {
    const d = approvalDecision({
      ...base,
      landmarks: cs4,
      quality: modelQualityOf({ verdict: 'failed', problems: ['x'] }),
    });
    expect(d.kind).toBe('refused');
    expect(d.kind === 'refused' && d.reasons[0]).toMatch(/did not find C2-C4/);
  });

  it('refuses what a recogniser says is not a lateral cephalogram', () => {
    const d = approvalDecision({
      ...base,
      landmarks: cs4,
      quality: modelQualityOf({
        verdict: 'ok',
        problems: [],
        imageKind: { kind: 'other', reason: 'a hand radiograph' },
      }),
    });
    expect(d.kind === 'refused' && d.reasons[0]).toMatch(
      /does not look like a lateral cephalogram \(a hand radiograph\)/,
    );
  });

  it('asks for a confirmation when the model was unsure and nobody moved the points', () => {
    const d = approvalDecision({
      ...base,
      landmarks: cs4,
      quality: modelQualityOf({ verdict: 'uncertain', problems: ['Low confidence for C4la.'] }),
    });
    expect(d.kind).toBe('confirm');
  });

  it('asks for a confirmation for an unusually flat body, refuses a collapsed one', () => {
    const flatten = (k: number): LandmarkSet => {
      const a = cs4.C4ua!,
        b = cs4.C4la!;
      return { ...cs4, C4ua: imagePoint(b.x + (a.x - b.x) * k, b.y + (a.y - b.y) * k) };
    };
    expect(approvalDecision({ ...base, landmarks: flatten(0.35), ai: null }).kind).toBe('confirm');
    expect(approvalDecision({ ...base, landmarks: flatten(0.05), ai: null }).kind).toBe('refused');
  });

  it('refuses when the stage cannot be computed', () => {
    expect(approvalDecision({ ...base, landmarks: cs4, stageError: 'inside out' }).kind).toBe('refused');
  });
});

describe('the recogniser and the shape model of the inference pipeline', () => {
  const base = { ai: cs4, spacing, stageError: null };

  it('an image the pipeline does not recognise (no landmarks drawn) is refused with its reason', () => {
    const quality = modelQualityOf({
      verdict: 'failed',
      problems: ['Not a lateral cephalogram: ...'],
      recognition: {
        lateralCephalogram: false,
        reason: 'the model finds no C2-C4 vertebrae (mean evidence 0.05). A hand radiograph gives this.',
      },
    });
    const d = approvalDecision({ ...base, ai: {}, landmarks: {}, quality });
    expect(d.kind).toBe('refused');
    expect(d.kind === 'refused' && d.reasons[0]).toBe(
      'This image does not look like a lateral cephalogram (the model finds no C2-C4 vertebrae (mean evidence 0.05)): a stage cannot be approved for it.',
    );
  });

  it('landmarks placed by hand on an unrecognised image need a confirmation, not a refusal', () => {
    const quality = modelQualityOf({
      verdict: 'failed',
      problems: [],
      recognition: { lateralCephalogram: false, reason: 'x' },
    });
    expect(approvalDecision({ ...base, ai: {}, landmarks: cs4, quality }).kind).toBe('confirm');
  });

  it("the shape model's implausible verdict on unmoved points refuses (through the failed verdict)", () => {
    const quality = modelQualityOf({
      verdict: 'failed',
      problems: ['C2-C4 are not found as a plausible vertebral column'],
      anatomy: { shapeDistance: 40, limit: 20, plausible: false, reselected: [] },
    });
    expect(quality!.shapeVerdict).toBe('implausible');
    expect(approvalDecision({ ...base, landmarks: cs4, quality }).kind).toBe('refused');
  });
});

describe('the whole-image classifier in the approval rules', () => {
  const base = { ai: cs4, spacing, stageError: null, quality: null };

  it('a hand-wrist radiograph is refused even with 13 landmarks placed by hand', () => {
    const d = approvalDecision({
      ...base,
      ai: null,
      landmarks: cs4,
      imageKind: { kind: 'hand', uncertain: false, probability: 0.99 },
    });
    expect(d.kind === 'refused' && d.reasons).toEqual([
      'This is a hand-wrist radiograph (99%): it gets a bone age, not a CVM stage.',
    ]);
  });

  it('an uncertain classification asks for a confirmation', () => {
    expect(approvalDecision({ ...base, landmarks: cs4, imageKind: { kind: 'other', uncertain: true } }).kind).toBe(
      'confirm',
    );
  });

  it('a cephalogram passes', () => {
    expect(
      approvalDecision({ ...base, landmarks: cs4, imageKind: { kind: 'cephalogram', uncertain: false } }).kind,
    ).toBe('allowed');
  });
});
