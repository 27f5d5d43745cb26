import { useCallback, useState, type ReactNode } from 'react';
import type { OpenedImage } from '../../core/api/index';
import { api } from '../api';
import { Viewer } from '../canvas/Viewer';
import { fitTransform, type Size, type ViewTransform } from '../canvas/view-transform';
import type { DisplayWindow } from '../canvas/window-level';
import { formatSpacing } from './format';

function defaultWindow(image: OpenedImage): DisplayWindow {
  const preset = image.pixels.windows[0];
  return preset ? { center: preset.center, width: preset.width, invert: false } : { center: 32768, width: 65536, invert: false };
}

export function App(): ReactNode {
  const [image, setImage] = useState<OpenedImage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [view, setView] = useState<ViewTransform | null>(null);
  const [viewport, setViewport] = useState<Size | null>(null);
  const [displayWindow, setDisplayWindow] = useState<DisplayWindow | null>(null);

  const open = useCallback(async (file: File) => {
    setBusy(true);
    setError(null);
    const bytes = new Uint8Array(await file.arrayBuffer());
    const result = await api.openImage({ file: { name: file.name, bytes } });
    setBusy(false);
    if (!result.ok) {
      setError(result.error.message);
      return;
    }
    setImage(result.value);
    setDisplayWindow(defaultWindow(result.value));
    setView(viewport ? fitTransform(result.value.pixels, viewport) : null);
  }, [viewport]);

  const onViewportSize = useCallback((size: Size) => {
    setViewport(size);
    setView((v) => v ?? (image ? fitTransform(image.pixels, size) : null));
  }, [image]);

  return (
    <div className="app" onDragOver={(e) => e.preventDefault()} onDrop={(e) => {
      e.preventDefault();
      const file = e.dataTransfer.files[0];
      if (file) void open(file);
    }}>
      <header className="toolbar">
        <span className="brand">CVM Workstation</span>
        <label className="button">
          Open image…
          <input type="file" data-testid="open-file" accept=".dcm,.dicom,.png,.jpg,.jpeg,application/dicom,image/png,image/jpeg"
            onChange={(e) => { const f = e.target.files?.[0]; if (f) void open(f); e.target.value = ''; }} hidden />
        </label>
        {image && viewport && (
          <button type="button" onClick={() => setView(fitTransform(image.pixels, viewport))}>Fit</button>
        )}
        {busy && <span className="status" role="status">Opening…</span>}
      </header>
      {error && <div className="error" role="alert" data-testid="error">{error}</div>}
      <main className="workspace">
        {image && displayWindow ? (
          <Viewer pixels={image.pixels} displayWindow={displayWindow} view={view} onViewChange={setView} onViewportSize={onViewportSize} />
        ) : (
          <div className="empty">Open a cephalogram (DICOM, PNG or JPEG) or drop it here.</div>
        )}
      </main>
      {image && (
        <footer className="infobar" data-testid="image-info">
          <span>{image.info.fileName}</span>
          <span data-testid="image-size">{image.info.width} x {image.info.height} px</span>
          <span data-testid="image-spacing" className={image.info.spacing ? '' : 'uncalibrated'}>{formatSpacing(image.info.spacing)}</span>
        </footer>
      )}
    </div>
  );
}
