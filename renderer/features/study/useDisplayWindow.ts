/** Window/level of the displayed image: the file's presets (the last one is automatic), invert, and drag. */
import { useCallback, useState } from 'react';
import type { WindowPreset } from '../../../core/api/index';
import type { DisplayWindow } from '../../canvas/window-level';

export interface DisplayWindowControl {
  readonly presetIndex: number;
  readonly displayWindow: DisplayWindow;
  choosePreset(index: number): void;
  nextPreset(): void;
  /** The automatic preset, always the last one. */
  autoPreset(): void;
  invert(): void;
  /** Ctrl-drag or right-drag on the image: horizontal changes the width, vertical the centre. */
  onWindowDrag(dx: number, dy: number): void;
}

function windowFromPreset(p: WindowPreset | undefined, invert: boolean): DisplayWindow {
  return p ? { center: p.center, width: p.width, invert } : { center: 32768, width: 65536, invert };
}

export function useDisplayWindow(windows: readonly WindowPreset[]): DisplayWindowControl {
  const [presetIndex, setPresetIndex] = useState(0);
  const [displayWindow, setDisplayWindow] = useState<DisplayWindow>(() => windowFromPreset(windows[0], false));

  const choosePreset = useCallback(
    (i: number) => {
      setPresetIndex(i);
      setDisplayWindow((w) => windowFromPreset(windows[i], w.invert));
    },
    [windows],
  );
  const nextPreset = useCallback(
    () => choosePreset((presetIndex + 1) % windows.length),
    [choosePreset, presetIndex, windows.length],
  );
  const autoPreset = useCallback(() => choosePreset(windows.length - 1), [choosePreset, windows.length]);
  const invert = useCallback(() => setDisplayWindow((w) => ({ ...w, invert: !w.invert })), []);
  const onWindowDrag = useCallback((dx: number, dy: number) => {
    setDisplayWindow((w) => ({
      ...w,
      width: Math.max(2, w.width * Math.exp(dx * 0.005)),
      center: w.center - dy * (w.width / 400),
    }));
  }, []);

  return { presetIndex, displayWindow, choosePreset, nextPreset, autoPreset, invert, onWindowDrag };
}
