import { describe, expect, it } from 'vitest';
import {
  classifyLogits,
  combineBoneAge,
  compareWithAge,
  formatYearsMonths,
  nearestIndices,
  parseSex,
  parseWholeImageManifest,
  squashNearest,
  WholeImageManifestError,
} from '../../core/boneage/index';

describe('squash preparation (nearest neighbour, Pillow NEAREST index rule)', () => {
  it('accumulates n / size from half a step and truncates, as Pillow does', () => {
    const i1000 = nearestIndices(1000, 100);
    expect([0, 1, 49, 99].map((i) => i1000[i])).toEqual([5, 15, 495, 995]);
    expect(Array.from(nearestIndices(3, 100).slice(0, 3))).toEqual([0, 0, 0]);
    expect(nearestIndices(250, 100)[99]).toBe(248);
    // 1160 -> 100: the exact position of cell 12 is 145.0, the accumulated double sum lands just below it
    expect(nearestIndices(1160, 100)[12]).toBe(144);
    expect(Math.floor((12.5 * 1160) / 100)).toBe(145);
  });

  it('squashes a wide image without keeping its aspect ratio and applies the window', () => {
    const width = 300;
    const height = 50;
    const data = new Uint16Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = x < 150 ? 0 : 1000;
    const out = squashNearest({ width, height, data, window: { center: 500, width: 1000 } });
    expect(out.length).toBe(10_000);
    expect(out[0]).toBe(0);
    expect(out[49]).toBe(0);
    expect(out[50]).toBe(1);
    expect(out[99 * 100 + 99]).toBe(1);
  });

  it('reads 8-bit pictures as value / 255', () => {
    const data = Uint8Array.from({ length: 4 }, (_, i) => i * 85);
    const out = squashNearest({ width: 2, height: 2, data, window: { center: 127.5, width: 255 } }, 2);
    expect(Array.from(out)).toEqual([0, 85 / 255, 170 / 255, 1].map((v) => Math.fround(v)));
  });

  it('refuses pixel data shorter than width x height', () => {
    expect(() => squashNearest({ width: 10, height: 10, data: new Uint8Array(50), window: null })).toThrow(
      /10x10 but holds 50/,
    );
  });
});

describe('ensemble bone age with a calibrated interval', () => {
  const cal = { level: 0.9, z: 1.645, scale: 1.2 };
  it('averages the members and adds their spread to the mean aleatoric variance', () => {
    const r = combineBoneAge([100, Math.log(36), 110, Math.log(64)], cal, [1, 228]);
    expect(r.months).toBeCloseTo(105, 9);
    expect(r.sdMonths).toBeCloseTo(Math.sqrt(50 + 25) * 1.2, 9);
    expect(r.interval.low).toBeCloseTo(105 - 1.645 * r.sdMonths, 9);
    expect(r.interval.high).toBeCloseTo(105 + 1.645 * r.sdMonths, 9);
    expect(r.members).toEqual([100, 110]);
  });
  it('applies the linear recalibration of the mean to each member, and its slope to the sd', () => {
    const r = combineBoneAge(
      [100, Math.log(36), 110, Math.log(64)],
      { ...cal, meanIntercept: -10, meanSlope: 1.1 },
      [1, 228],
    );
    expect(r.members[0]).toBeCloseTo(100, 9);
    expect(r.members[1]).toBeCloseTo(111, 9);
    expect(r.months).toBeCloseTo(105.5, 9);
    expect(r.sdMonths).toBeCloseTo(Math.sqrt(1.21 * 50 + 30.25) * 1.2, 9);
  });
  it('clamps to the age range of the training data', () => {
    const r = combineBoneAge([240, Math.log(100)], cal, [1, 228]);
    expect(r.months).toBe(228);
    expect(r.interval.high).toBe(228);
  });
  it('refuses non-finite outputs', () => {
    expect(() => combineBoneAge([Number.NaN, 0], cal, [1, 228])).toThrow(/non-finite/);
  });
});

describe('bone age against chronological age', () => {
  it('gives the difference in months and in reference SDs by sex', () => {
    const c = compareWithAge(150, 11, 'F')!;
    expect(c.differenceMonths).toBeCloseTo(18, 9);
    expect(c.sdScore).toBeCloseTo(18 / (1.13 * 12), 9);
    expect(compareWithAge(150, 11, 'M')!.sdScore).toBeCloseTo(18 / (1.11 * 12), 9);
    expect(c.reference).toMatch(/Greulich-Pyle/);
  });
  it('is null without a chronological age', () => {
    expect(compareWithAge(150, null, 'F')).toBeNull();
  });
  it('formats years and months', () => {
    expect(formatYearsMonths(136.4)).toBe('11 y 4 mo');
    expect(formatYearsMonths(-14)).toBe('-1 y 2 mo');
  });
  it('reads sex words and DICOM codes', () => {
    expect([parseSex('M'), parseSex('female'), parseSex(' Male '), parseSex('O'), parseSex(null)]).toEqual([
      'M',
      'F',
      'M',
      null,
      null,
    ]);
  });
});

describe('radiograph kind decision', () => {
  it('takes the most probable kind', () => {
    const r = classifyLogits([0, 3, 0], 0.6);
    expect(r.kind).toBe('hand');
    expect(r.uncertain).toBe(false);
    expect(r.probabilities.hand + r.probabilities.cephalogram + r.probabilities.other).toBeCloseTo(1, 12);
  });
  it('calls an image other (uncertain) when no kind reaches the threshold', () => {
    const r = classifyLogits([1, 1.2, 0], 0.6);
    expect(r.kind).toBe('other');
    expect(r.uncertain).toBe(true);
  });
});

describe('whole-image manifests', () => {
  const base = {
    id: 'x',
    task: 'boneage',
    version: '1',
    file: 'a.onnx',
    sha256: 'a'.repeat(64),
    preparation: 'squash-nearest',
    inputs: { image: { name: 'image', shape: [1, 1, 100, 100] }, male: { name: 'male', shape: [1, 1] } },
    output: { name: 'boneage', shape: [1, 5, 2] },
    members: 5,
    ageRangeMonths: [1, 228],
    calibration: { level: 0.9, z: 1.645, scale: 1.1 },
    modelCard: { data: 'd' },
  };
  it('accepts a complete bone-age manifest', () => {
    const m = parseWholeImageManifest(base);
    expect(m.task).toBe('boneage');
  });
  it.each([
    [
      'an output that does not match the members',
      { output: { name: 'boneage', shape: [1, 4, 2] } },
      /output.shape is \[1, 4, 2\], expected \[1, 5, 2\]/,
    ],
    [
      'another input size',
      { inputs: { ...base.inputs, image: { name: 'image', shape: [1, 1, 128, 128] } } },
      /inputs.image.shape/,
    ],
    ['a bad sha256', { sha256: 'xyz' }, /sha256/],
    ['no model card', { modelCard: undefined }, /modelCard/],
    ['another preparation', { preparation: 'letterbox' }, /preparation "letterbox"/],
    ['an unknown task', { task: 'pano' }, /task "pano"/],
  ])('refuses %s', (_what, patch, message) => {
    expect(() => parseWholeImageManifest({ ...base, ...patch })).toThrow(WholeImageManifestError);
    expect(() => parseWholeImageManifest({ ...base, ...patch })).toThrow(message);
  });
  it('requires the classes in the order cephalogram, hand, other', () => {
    const kind = {
      ...base,
      task: 'radiograph-kind',
      output: { name: 'logits', shape: [1, 3] },
      classes: ['hand', 'cephalogram', 'other'],
      minProbability: 0.6,
    };
    expect(() => parseWholeImageManifest(kind)).toThrow(/classes must be \[cephalogram, hand, other\]/);
    expect(parseWholeImageManifest({ ...kind, classes: ['cephalogram', 'hand', 'other'] }).task).toBe(
      'radiograph-kind',
    );
  });
});
