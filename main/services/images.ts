/** Opening a file the user picked, without storing it: decode and hand the pixels to the renderer. */
import { fail, ok, type OpenImageRequest, type OpenedImage, type Result } from '../../core/api/index';
import { decodeImageFile, ImageDecodeError } from '../dicom/index';

export async function openImage(request: OpenImageRequest): Promise<Result<OpenedImage>> {
  try {
    return ok(await decodeImageFile(request.file.name, request.file.bytes));
  } catch (error) {
    if (error instanceof ImageDecodeError) return fail(error.code, error.message);
    throw error;
  }
}
