/**
 * Where a data set may point: the `image` of a cvm13 entry is resolved relative to the annotation file and
 * must stay under an images root (by default the parent of the annotation file's folder, so the shared
 * data's `../isbi2015/images/001.jpg` works); absolute paths only when asked for. A path outside gets the
 * same message whether or not something exists there, so a shared file cannot probe the disk. Only regular
 * files within the size limit whose first bytes are an image are read (docs/security.md).
 */
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { ImageDecodeError } from '../dicom/errors';
import { looksLikeImage, readImageFileSafely } from '../dicom/read-file';

export interface ImagePathPolicy {
  /** Folder every image must lie in (default: the parent of the annotation file's folder). */
  readonly imagesRoot?: string;
  /** Accept absolute `image` paths, anywhere (off by default). */
  readonly allowAbsolute?: boolean;
}

export function defaultImagesRoot(annotationFile: string): string {
  return path.dirname(path.dirname(path.resolve(annotationFile)));
}

/** Whether `child` is `parent` or lies inside it, by whole path segments. */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
}

export class DataSetPathError extends Error {}

/**
 * Resolves and reads the image an annotation entry names. Throws DataSetPathError (the path is not
 * acceptable) or ImageDecodeError (the file is not a readable image) with a message for the user.
 */
export function readDataSetImage(
  annotationFile: string,
  image: unknown,
  policy: ImagePathPolicy = {},
): { file: string; bytes: Buffer } {
  if (typeof image !== 'string' || image.length === 0)
    throw new DataSetPathError('"image" must be the path of the image file');
  if (image.length > 4096 || image.includes('\0')) throw new DataSetPathError('"image" is not a usable path');
  const absolute = path.isAbsolute(image) || path.win32.isAbsolute(image);
  if (absolute && !policy.allowAbsolute) {
    throw new DataSetPathError(
      `"image" is an absolute path (${image}); only paths relative to the annotation file are read unless absolute paths are allowed (cvm import --allow-absolute-paths)`,
    );
  }
  const root = path.resolve(policy.imagesRoot ?? defaultImagesRoot(annotationFile));
  const resolved = path.resolve(path.dirname(path.resolve(annotationFile)), image);
  const confined = !absolute;
  const outside = (): DataSetPathError =>
    new DataSetPathError(
      `"image" (${image}) points outside the images folder ${root}; choose another with --images-root`,
    );
  // Lexically first: a path outside is refused before anything there is looked at.
  if (confined && !isInside(root, resolved)) throw outside();
  let real: string;
  try {
    real = realpathSync(resolved);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ImageDecodeError(
      'not-found',
      image,
      code === 'ELOOP' ? 'the path is a loop of symbolic links' : 'the image file does not exist',
    );
  }
  if (confined) {
    let realRoot: string;
    try {
      realRoot = realpathSync(root);
    } catch {
      throw outside();
    }
    // A symbolic link inside the root that leads outside it is outside.
    if (!isInside(realRoot, real)) throw outside();
  }
  const bytes = readImageFileSafely(real, image);
  if (!looksLikeImage(bytes.subarray(0, 132))) {
    throw new ImageDecodeError(
      'unsupported',
      image,
      'not an image file (PNG, JPEG, TIFF or DICOM); it was not imported',
    );
  }
  return { file: real, bytes };
}
