/** The workstation shell: the worklist, or one open study; the user's name for every saved edit. */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { api } from '../api';
import { StudyView } from './study/StudyView';
import { Worklist } from './worklist/Worklist';
import { PacsTab } from './pacs/PacsTab';

type Route =
  { readonly view: 'worklist' } | { readonly view: 'pacs' } | { readonly view: 'study'; readonly imageId: number };

function routeFromHash(): Route {
  const m = /^#\/study\/(\d+)$/.exec(location.hash);
  if (location.hash === '#/pacs') return { view: 'pacs' };
  return m ? { view: 'study', imageId: Number(m[1]) } : { view: 'worklist' };
}

export function App(): ReactNode {
  const [route, setRoute] = useState<Route>(routeFromHash);
  const [userName, setUserName] = useState<string>('');
  const [editingName, setEditingName] = useState(false);

  useEffect(() => {
    void api.getSettings({}).then((r) => {
      if (r.ok) setUserName(r.value.userName);
    });
    const onHash = (): void => setRoute(routeFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  // The route lives in the URL hash, so a reload reopens the same study.
  const open = useCallback((imageId: number) => {
    location.hash = `#/study/${imageId}`;
  }, []);
  const back = useCallback(() => {
    location.hash = '#/';
  }, []);

  const saveName = async (name: string): Promise<void> => {
    const trimmed = name.trim();
    if (!trimmed) return;
    const r = await api.setSettings({ userName: trimmed });
    if (r.ok) setUserName(r.value.userName);
    setEditingName(false);
  };

  return (
    <div className="app">
      <header className="topbar">
        <span className="brand">CVM Workstation</span>
        <nav aria-label="Main">
          <button type="button" className={route.view === 'worklist' ? 'active' : ''} onClick={back}>
            Worklist
          </button>
          <button
            type="button"
            className={route.view === 'pacs' ? 'active' : ''}
            onClick={() => {
              location.hash = '#/pacs';
            }}
            data-testid="nav-pacs"
          >
            PACS
          </button>
        </nav>
        <span className="spacer" />
        {editingName ? (
          <input
            autoFocus
            defaultValue={userName}
            aria-label="Your name, recorded with every edit"
            data-testid="user-name-input"
            onBlur={(e) => void saveName(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') void saveName(e.currentTarget.value);
              if (e.key === 'Escape') setEditingName(false);
              e.stopPropagation();
            }}
          />
        ) : (
          <button
            type="button"
            className="link"
            onClick={() => setEditingName(true)}
            data-testid="user-name"
            title="Your name, recorded with every edit"
          >
            {userName || 'set your name'}
          </button>
        )}
      </header>
      <main className="content">
        {route.view === 'worklist' ? (
          <Worklist onOpen={open} />
        ) : route.view === 'pacs' ? (
          <PacsTab onOpen={open} />
        ) : (
          <StudyView imageId={route.imageId} userName={userName} onBack={back} onOpen={open} />
        )}
      </main>
    </div>
  );
}
