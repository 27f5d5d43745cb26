/**
 * The landmark model's second opinion on a hand verdict (main/services/landmark-analysis.ts): the radiograph-kind
 * model looks at the whole image squashed to 100 x 100 and can take an unusual cephalogram for a hand. Its verdict
 * is the input here (as the app passes the stored kind); the landmarks come from the shipped model on real images.
 * A cephalogram called a hand keeps its landmarks with a check; a real hand stays refused. The same for an "other"
 * verdict (the kind model 1.1.0 gave it to every edge-enhanced or inverted cephalogram): a cephalogram keeps its
 * landmarks with a check, a hand stays "not a lateral cephalogram" by the landmark model's own recognition.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnalysisResult } from '../../core/api/analysis';
import type { OpenedImage } from '../../core/api/image';
import { decodeImageFile } from '../../main/dicom/index';
import { enteredSpacing, InferenceEngine, verifyModel } from '../../main/inference/index';
import { analyzeOpenedImage, HandRadiographError, type KindVerdict } from '../../main/services/landmark-analysis';
import { HAS_SHARED_DATA, REPO_ROOT, sharedPath } from '../shared-data';

const MODEL = path.join(REPO_ROOT, 'models', 'cvm13-unet');
const HAS_MODEL = existsSync(path.join(MODEL, 'decoding.json'));

const handVerdict = (p: number): KindVerdict => ({ kind: 'hand', probabilities: { hand: p, other: 0.01 } });
const otherVerdict = (p: number): KindVerdict => ({ kind: 'other', probabilities: { hand: 0.01, other: p } });

describe.skipIf(!HAS_MODEL || !HAS_SHARED_DATA)('a hand or "other" verdict of the radiograph-kind model', () => {
  let engine: InferenceEngine;
  beforeAll(async () => {
    engine = await InferenceEngine.start({ model: verifyModel(MODEL), providers: ['cpu'] });
  }, 60_000);
  afterAll(async () => {
    await engine.close();
  });
  const opened = async (...parts: string[]) => decodeImageFile(parts.at(-1) ?? '', readFileSync(sharedPath(...parts)));
  const spacing = enteredSpacing(0.1, 'test');
  /** The analysis under a given kind verdict, and how often the app's callback recorded an overrule. */
  const analyzeUnder = (image: OpenedImage, verdict: KindVerdict) => {
    const calls = { overruled: 0 };
    const result = analyzeOpenedImage(engine, image, {
      spacing,
      kindOf: async () => verdict,
      onKindOverruled: async () => {
        calls.overruled++;
      },
    });
    return { result, calls };
  };
  /** Landmarks kept, the callback called once, and the check saying which verdict was overruled. */
  const expectOverruled = async (run: ReturnType<typeof analyzeUnder>, problem: RegExp): Promise<AnalysisResult> => {
    const result = await run.result;
    expect(run.calls.overruled).toBe(1);
    expect(result.prediction.landmarks).toHaveLength(13);
    expect(result.prediction.quality.verdict).not.toBe('ok');
    expect(result.prediction.quality.problems.join(' ')).toMatch(problem);
    return result;
  };

  it('is overruled on a cephalogram: the landmarks stay, with a check that says why', async () => {
    const ceph = await opened('isbi2015', 'images', '001.jpg');
    const result = await expectOverruled(
      analyzeUnder(ceph, handVerdict(0.7)),
      /took this image for a hand-wrist radiograph \(P hand 70%\), but the landmark model found a plausible C2-C4 column/,
    );
    // The same image with a cephalogram verdict: the same landmarks, no such problem.
    const plain = await analyzeUnder(ceph, { kind: 'cephalogram', probabilities: { hand: 0.01, other: 0.01 } }).result;
    expect(plain.prediction.landmarks.map((l) => [l.x, l.y])).toEqual(
      result.prediction.landmarks.map((l) => [l.x, l.y]),
    );
    expect(plain.prediction.quality.problems.join(' ')).not.toMatch(/hand-wrist/);
  }, 120_000);

  it('"other" is overruled on a cephalogram too, and on a hand the landmark model refuses it itself', async () => {
    const ceph = await opened('isbi2015', 'images', '001.jpg');
    await expectOverruled(
      analyzeUnder(ceph, otherVerdict(0.95)),
      /took this image for neither a hand nor a cephalogram \(P other 95%\), but the landmark model found a plausible C2-C4 column/,
    );
    const hand = analyzeUnder(await opened('boneage', 'rsna-sample', '7034.png'), otherVerdict(0.9));
    const refused = await hand.result;
    expect(hand.calls.overruled).toBe(0);
    expect(refused.prediction.recognition.lateralCephalogram).toBe(false);
    expect(refused.prediction.landmarks).toHaveLength(0);
  }, 120_000);

  it('with a cephalogram verdict and no column found, says the column was not found, not "not a cephalogram"', async () => {
    // ISBI 105 (a young child's film; the kind model: cephalogram, P 99%) was told "Not a lateral cephalogram … a
    // hand, chest or panoramic radiograph gives this". The verdict is the input here; the image is one the landmark
    // model finds no column in.
    const run = analyzeUnder(await opened('boneage', 'rsna-sample', '7034.png'), {
      kind: 'cephalogram',
      probabilities: { hand: 0.02, other: 0.01 },
    });
    const result = await run.result;
    expect(run.calls.overruled).toBe(0);
    const p = result.prediction;
    expect(p.recognition).toMatchObject({ lateralCephalogram: false, cephalogramByKind: 0.97 });
    expect(p.landmarks).toHaveLength(0);
    expect(p.quality.verdict).toBe('failed');
    expect(result.stageCertain).toBe(false);
    expect(result.summary).toMatch(/^No C2-C4 column found \(no landmarks, no stage\): the model/);
    expect(result.summary).toMatch(
      /The radiograph-kind model takes the image for a cephalogram \(P 97%\): if it is one.*place the 13 by hand\.$/,
    );
    expect(result.summary).not.toMatch(/Not a lateral cephalogram|hand, chest or panoramic/);
    expect(p.quality.problems[0]).toMatch(/^No C2-C4 column found: /);
    // An unsure cephalogram verdict (the kind model gave the WG04 chest film P 0.62), or none: the landmark model's
    // own words stand.
    const unsure = await analyzeUnder(await opened('boneage', 'rsna-sample', '7034.png'), {
      kind: 'cephalogram',
      probabilities: { hand: 0.2, other: 0.18 },
    }).result;
    expect(unsure.summary).toMatch(/^Not a lateral cephalogram .*hand, chest or panoramic radiograph/);
    expect(unsure.prediction.recognition.cephalogramByKind).toBeUndefined();
    const alone = await analyzeOpenedImage(engine, await opened('boneage', 'rsna-sample', '7034.png'), { spacing });
    expect(alone.summary).toMatch(/^Not a lateral cephalogram .*hand, chest or panoramic radiograph/);
    expect(alone.prediction.recognition.cephalogramByKind).toBeUndefined();
  }, 120_000);

  it('stands on a hand radiograph, which the landmark model finds no column in', async () => {
    const hand = analyzeUnder(await opened('boneage', 'rsna-sample', '7034.png'), handVerdict(0.97));
    await expect(hand.result).rejects.toBeInstanceOf(HandRadiographError);
    await expect(hand.result).rejects.toThrow(
      /Not a lateral cephalogram: 7034.png is a hand-wrist radiograph \(P hand 97%\)/,
    );
    expect(hand.calls.overruled).toBe(0);
  }, 120_000);
});
