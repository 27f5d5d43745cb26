/*
 * A grey-only JPEG decoder over libjpeg-turbo (built to WebAssembly by build/jpeg-grey/build.sh).
 *
 * jpeg_grey_decode() decodes an 8-bit sequential (baseline or extended Huffman) JPEG with one component,
 * or three YCbCr components of which only the luma is reconstructed (libjpeg-turbo's JCS_GRAYSCALE output
 * skips the chroma's inverse DCT, upsampling and colour conversion), with the accurate integer inverse DCT
 * (JDCT_ISLOW, the IJG default), and writes the grey as bytes, or as 16-bit values v * 257 (0..65535).
 *
 * Errors call the imported jpeg_grey_error(), which throws in JavaScript (the instance is then discarded);
 * warnings (recoverable damage) are counted and passed to jpeg_grey_warning() so that the caller can fall
 * back to its full decoder, which words them its own way.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jpeglib.h"

__attribute__((import_module("env"), import_name("jpeg_grey_error"))) void jpeg_grey_error(const char *text, int length);
__attribute__((import_module("env"), import_name("jpeg_grey_warning"))) void jpeg_grey_warning(const char *text, int length);

static int result_width;
static int result_height;
static int result_components;
static int result_warnings;
/* How many pixels of the central part (columns x0..x1, rows y0..y1, exclusive; given by the caller) hold each
 * grey value: the histogram of the automatic window, counted here so that no JavaScript loop reads the pixels. */
static uint32_t central_counts[256];

static void on_error_exit(j_common_ptr cinfo) {
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  jpeg_grey_error(text, (int)strlen(text));
  abort(); /* not reached: the import throws */
}

static void on_emit_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return; /* trace messages */
  result_warnings++;
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  jpeg_grey_warning(text, (int)strlen(text));
}

static void on_output_message(j_common_ptr cinfo) { (void)cinfo; }

__attribute__((export_name("jpeg_grey_alloc"))) void *jpeg_grey_alloc(size_t size) { return malloc(size); }
__attribute__((export_name("jpeg_grey_free"))) void jpeg_grey_free(void *p) { free(p); }
__attribute__((export_name("jpeg_grey_width"))) int jpeg_grey_width(void) { return result_width; }
__attribute__((export_name("jpeg_grey_height"))) int jpeg_grey_height(void) { return result_height; }
__attribute__((export_name("jpeg_grey_components"))) int jpeg_grey_components(void) { return result_components; }
__attribute__((export_name("jpeg_grey_warnings"))) int jpeg_grey_warnings(void) { return result_warnings; }
__attribute__((export_name("jpeg_grey_counts"))) uint32_t *jpeg_grey_counts(void) { return central_counts; }

static void count_central(const JSAMPLE *row, size_t y, size_t width, int x0, int x1, int y0, int y1) {
  if ((long)y < y0 || (long)y >= y1) return;
  const size_t from = x0 < 0 ? 0 : (size_t)x0;
  const size_t to = x1 < 0 ? 0 : ((size_t)x1 > width ? width : (size_t)x1);
  for (size_t x = from; x < to; x++) central_counts[row[x]]++;
}

/*
 * Decodes `length` bytes at `data`. Returns a malloc'd buffer of width x height grey values (free it with
 * jpeg_grey_free): 16-bit values v * 257 when `wide` is not 0, else bytes; or 0 when the stream is not one this
 * decoder takes (not 8-bit, not sequential Huffman, not grey or YCbCr): the caller then uses its full decoder.
 * The grey values of columns x0..x1 and rows y0..y1 (exclusive; none when x1 <= x0) are counted in
 * jpeg_grey_counts().
 */
__attribute__((export_name("jpeg_grey_decode"))) void *jpeg_grey_decode(const unsigned char *data,
                                                                        unsigned long length, int wide, int x0,
                                                                        int x1, int y0, int y1) {
  struct jpeg_decompress_struct cinfo;
  struct jpeg_error_mgr jerr;
  result_width = result_height = result_components = result_warnings = 0;
  memset(central_counts, 0, sizeof central_counts);
  cinfo.err = jpeg_std_error(&jerr);
  jerr.error_exit = on_error_exit;
  jerr.emit_message = on_emit_message;
  jerr.output_message = on_output_message;
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, length);
  jpeg_read_header(&cinfo, TRUE);
  result_width = (int)cinfo.image_width;
  result_height = (int)cinfo.image_height;
  result_components = cinfo.num_components;
  const int grey = cinfo.num_components == 1 && cinfo.jpeg_color_space == JCS_GRAYSCALE;
  const int ycc = cinfo.num_components == 3 && cinfo.jpeg_color_space == JCS_YCbCr;
  if (cinfo.data_precision != 8 || cinfo.progressive_mode || cinfo.arith_code || !(grey || ycc)) {
    jpeg_destroy_decompress(&cinfo);
    return 0;
  }
  cinfo.out_color_space = JCS_GRAYSCALE;
  cinfo.dct_method = JDCT_ISLOW;
  jpeg_start_decompress(&cinfo);
  const size_t width = cinfo.output_width;
  const size_t height = cinfo.output_height;
  unsigned char *out = (unsigned char *)malloc(width * height * (wide ? 2 : 1));
  JSAMPROW row = (JSAMPROW)malloc(width);
  if (!out || !row) {
    free(out);
    free(row);
    jpeg_destroy_decompress(&cinfo);
    jpeg_grey_error("out of memory for the decoded image", 35);
    return 0;
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    const size_t y = cinfo.output_scanline;
    if (wide) {
      uint16_t *target = (uint16_t *)out + y * width;
      jpeg_read_scanlines(&cinfo, &row, 1);
      for (size_t x = 0; x < width; x++) target[x] = (uint16_t)(row[x] * 257u);
      count_central(row, y, width, x0, x1, y0, y1);
    } else {
      JSAMPROW target = out + y * width;
      jpeg_read_scanlines(&cinfo, &target, 1);
      count_central(target, y, width, x0, x1, y0, y1);
    }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  free(row);
  return out;
}
