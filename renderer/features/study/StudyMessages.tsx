/**
 * The line of messages under the toolbar: a failed save (with a way back to the saved version), progress,
 * the last command's outcome, the model's own doubts, a damaged file, and the guide of the tool in use.
 */
import type { ReactNode } from 'react';
import { LANDMARK_NAMES, landmarkInfo } from '../../../core/landmarks/index';
import type { ModelQuality } from '../../../core/review/approval';
import type { ToolState } from '../../tools/landmark-tool';
import type { StudyMessage } from '../../state/study-view';
import { Notice, type NoticeState } from '../Notice';
import { sentences } from '../format';
import type { SaveState } from './useStudyEditor';

/** What the model's quality check says, as a notice; null when it is confident (or did not say). */
export function qualityNotice(q: ModelQuality | null): NoticeState | null {
  if (!q || !q.verdict || q.verdict === 'ok') return null;
  if (q.verdict === 'failed' || q.notCephalogram)
    return {
      kind: 'error',
      text: q.notCephalogram
        ? 'This image does not look like a lateral cephalogram: the model drew no landmarks, and no stage can be given or approved.'
        : 'The model did not find C2–C4 on this image: it may not be a lateral cephalogram, or the vertebrae are not visible. Do not rely on these landmarks.',
      details: q.notCephalogramReason ? [q.notCephalogramReason] : q.problems,
    };
  return {
    kind: 'warning',
    text: `The model is not confident on this image. Check every landmark before relying on the stage. ${sentences(q.problems.slice(0, 1))}`,
    details: q.problems.slice(1),
  };
}

export interface StudyMessagesProps {
  readonly saveState: SaveState;
  readonly busy: string | null;
  readonly message: StudyMessage | null;
  readonly quality: ModelQuality | null;
  /** The model's note when it turned the image upright. */
  readonly orientation: { readonly corrected?: boolean; readonly detail?: string } | undefined;
  readonly fileWarnings: readonly string[];
  /** How the file's Orientation tag turned it for display (ImageInfo.turnedByTag). */
  readonly fileTurn: string | undefined;
  /** Which page of a multi-page file is shown (ImageInfo.pageShown). */
  readonly filePage: string | undefined;
  readonly tool: ToolState;
  readonly hasLandmarks: boolean;
  readonly onReload: () => void;
  readonly onCloseMessage: () => void;
  readonly onAnalyze: () => void;
  readonly onPlace: () => void;
}

export function StudyMessages(p: StudyMessagesProps): ReactNode {
  const quality = qualityNotice(p.quality);
  const { tool } = p;
  return (
    <div className="study-messages">
      {p.saveState.kind === 'error' && (
        <>
          <Notice
            notice={{ kind: 'error', text: `Your last change was not saved: ${p.saveState.message}` }}
            testId="save-error"
          />
          <div className="notice-actions">
            <button type="button" onClick={p.onReload} title="Load the last saved version from the database">
              Reload the saved version
            </button>
          </div>
        </>
      )}
      {p.busy && <Notice notice={{ kind: 'info', text: p.busy }} testId="busy" />}
      {p.message && !p.busy && <Notice notice={p.message} onClose={p.onCloseMessage} testId="message" />}
      {quality && <Notice notice={quality} testId="quality-warning" />}
      {p.orientation?.corrected && (
        <div className="guide" role="status" data-testid="orientation-note">
          Orientation: {p.orientation.detail}.
        </div>
      )}
      {p.fileTurn && (
        <div className="guide" role="status" data-testid="file-orientation-note">
          Shown {p.fileTurn}, as other image viewers show it.
        </div>
      )}
      {p.filePage && (
        <div className="guide" role="status" data-testid="file-page-note">
          Shown: {p.filePage}.
        </div>
      )}
      {p.fileWarnings.length > 0 && (
        <Notice
          notice={{
            kind: 'warning',
            text: `This file is damaged or has unusable values: ${p.fileWarnings.join('; ')}`,
          }}
          testId="file-warning"
        />
      )}
      {tool.kind === 'placing' && (
        <div className="guide" role="status" data-testid="placing-guide">
          Click <strong>{tool.next}</strong>: {landmarkInfo(tool.next).label} ({LANDMARK_NAMES.indexOf(tool.next) + 1}
          /13). Esc cancels.
        </div>
      )}
      {tool.kind === 'calibrating' && (
        <div className="guide" role="status">
          Click the {tool.points.length === 0 ? 'first' : 'second'} end of a known distance. Esc cancels.
        </div>
      )}
      {!p.hasLandmarks && tool.kind === 'idle' && (
        <div className="guide" role="status">
          No landmarks yet.{' '}
          <button type="button" className="link" onClick={p.onAnalyze}>
            Analyze with the model
          </button>{' '}
          or{' '}
          <button type="button" className="link" onClick={p.onPlace}>
            place them by hand
          </button>
          .
        </div>
      )}
    </div>
  );
}
