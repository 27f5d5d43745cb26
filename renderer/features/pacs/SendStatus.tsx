/** The PACS send state of worklist rows: "sent", "queued", or "send failed" with the error as its title. */
import { useEffect, useState, type ReactNode } from 'react';
import type { SendState } from '../../../core/api/pacs';
import { api } from '../../api';
import './pacs.css';

/** Send states of the given images, refreshed when main reports a send. */
export function useSendStates(imageIds: readonly number[]): ReadonlyMap<number, SendState> {
  const [states, setStates] = useState<ReadonlyMap<number, SendState>>(new Map());
  const key = imageIds.join(',');
  useEffect(() => {
    let live = true;
    const ids = key ? key.split(',').map(Number) : [];
    const load = (): void => {
      if (ids.length === 0) {
        setStates(new Map());
        return;
      }
      void api.pacsSendStatus({ imageIds: ids }).then((r) => {
        if (live && r.ok) setStates(new Map(r.value.states.map((s) => [s.imageId, s])));
      });
    };
    load();
    const off = api.onEvent('pacsSendChanged', load);
    return () => {
      live = false;
      off();
    };
  }, [key]);
  return states;
}

export function SendBadge({ state }: { state: SendState | undefined }): ReactNode {
  if (!state) return null;
  const label = state.status === 'sent' ? 'sent' : state.status === 'pending' ? 'queued' : 'send failed';
  const title =
    state.status === 'sent'
      ? `Stored on the PACS ${state.sentAt ? new Date(state.sentAt).toLocaleString() : ''}`
      : state.status === 'failed'
        ? `${state.error ?? 'failed'} (attempt ${state.attempts}; retried automatically)`
        : 'Waiting to be sent to the PACS';
  return (
    <span className={`send-badge ${state.status}`} title={title} data-testid="send-status">
      {label}
    </span>
  );
}
