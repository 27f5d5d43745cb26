/**
 * Whether a URL lies inside the app's own folder, compared by whole path segments: with the app at
 * file:///opt/app/dist/renderer, file:///opt/app/dist/renderer/index.html is inside and
 * file:///opt/app/dist/renderer-evil/index.html is not (a plain prefix test would accept it).
 * No Electron here, so it is tested directly.
 */
export function isInsideAppUrl(url: string, appDirUrl: string): boolean {
  let target: URL;
  let base: URL;
  try {
    target = new URL(url);
    base = new URL(appDirUrl);
  } catch {
    return false;
  }
  if (target.protocol !== 'file:' || base.protocol !== 'file:' || target.host !== base.host) return false;
  let targetPath: string;
  let basePath: string;
  try {
    targetPath = decodeURIComponent(target.pathname);
    basePath = decodeURIComponent(base.pathname).replace(/\/+$/, '');
  } catch {
    return false;
  }
  // A path with "." or ".." segments left after URL parsing, or an encoded separator, is not ours.
  if (targetPath.split('/').some((seg) => seg === '..' || seg === '.') || /%2f|%5c/i.test(target.pathname))
    return false;
  return targetPath.startsWith(`${basePath}/`);
}
