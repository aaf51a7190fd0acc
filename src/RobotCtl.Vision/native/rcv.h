/* robotctl vision shim: the small C API over OpenCV that RobotCtl.Vision calls by P/Invoke.
 * Every function catches all C++ exceptions and returns a status code (RCV_OK or a negative RCV_ERR_*);
 * the message of the last failure on the calling thread is available from rcv_last_error().
 * Images crossing this API are 8-bit BGR, interleaved, tightly packed (width*3 bytes per row). */
#ifndef ROBOTCTL_VISION_RCV_H
#define ROBOTCTL_VISION_RCV_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RCV_API __attribute__((visibility("default")))

enum {
    RCV_OK = 0,
    RCV_ERR_OPENCV = -1,      /* OpenCV raised cv::Exception; message from rcv_last_error() */
    RCV_ERR_ARGUMENT = -2,    /* invalid argument (size, null pointer, ...) */
    RCV_ERR_UNSUPPORTED = -3, /* valid input the shim deliberately does not handle (bit depth, channels) */
    RCV_ERR_DECODE = -4,      /* bytes are not a decodable image */
    RCV_ERR_TOO_SMALL = -5,   /* destination buffer too small; the needed size is reported */
    RCV_ERR_OPEN = -6,        /* a capture/writer could not be opened */
    RCV_ERR_TOO_LARGE = -7,   /* image exceeds the caller's pixel limit */
    RCV_ERR_NO_MEMORY = -8,
    RCV_ERR_UNKNOWN = -99,
};

typedef struct rcv_capture rcv_capture;
typedef struct rcv_writer rcv_writer;
typedef struct rcv_image rcv_image;
typedef struct rcv_pre rcv_pre;

/* Message of the last failure on this thread ("" if none). Valid until the next shim call on this thread. */
RCV_API const char* rcv_last_error(void);

/* ---- capture ---- */
/* Opens `source` (file, URL or pipeline) or, when source is NULL, the device `index`. api: a cv::VideoCaptureAPIs
 * value (0 = any). width/height/fps <= 0 and fourcc NULL/"" leave the source's defaults. Timeouts apply to FFmpeg. */
RCV_API int rcv_capture_open(const char* source, int index, int api, int width, int height, double fps,
                             const char* fourcc, int open_timeout_ms, int read_timeout_ms, rcv_capture** out);
/* Grabs and decodes the next frame. *got = 1 with its size, or *got = 0 at end of stream / read failure. */
RCV_API int rcv_capture_read(rcv_capture* cap, int* got, int* width, int* height);
/* Copies the last read frame as BGR8 into dst (capacity bytes; needs width*height*3). */
RCV_API int rcv_capture_copy(rcv_capture* cap, uint8_t* dst, int64_t capacity);
/* cv::VideoCapture::get. */
RCV_API double rcv_capture_get(rcv_capture* cap, int property);
/* Name of the backend in use, copied into buf (NUL-terminated). */
RCV_API int rcv_capture_backend(rcv_capture* cap, char* buf, int capacity);
RCV_API void rcv_capture_release(rcv_capture* cap);

/* ---- video writer ---- */
RCV_API int rcv_writer_open(const char* path, const char* fourcc, double fps, int width, int height, rcv_writer** out);
RCV_API int rcv_writer_write(rcv_writer* writer, const uint8_t* bgr, int width, int height);
RCV_API void rcv_writer_release(rcv_writer* writer);

/* ---- still images ---- */
/* Decodes an encoded image and converts it to BGR8: gray -> BGR (replicated), BGRA -> BGR (alpha dropped),
 * 16-bit -> 8-bit (value / 257, full range). Other depths and 2-channel images: RCV_ERR_UNSUPPORTED.
 * max_pixels > 0 refuses larger images (RCV_ERR_TOO_LARGE). Reports the source's channels and depth (bits). */
RCV_API int rcv_image_decode(const uint8_t* data, int64_t length, int64_t max_pixels, rcv_image** out,
                             int* width, int* height, int* source_channels, int* source_bits);
RCV_API int rcv_image_copy(rcv_image* image, uint8_t* dst, int64_t capacity);
RCV_API void rcv_image_release(rcv_image* image);
/* Encodes BGR8 with the codec for `extension` (".png", ".jpg"). param: JPEG quality (1-100) or PNG compression
 * (0-9); < 0 = codec default. Writes into dst; RCV_ERR_TOO_SMALL when capacity is short (*written = needed). */
RCV_API int rcv_image_encode(const uint8_t* bgr, int width, int height, const char* extension, int param,
                             uint8_t* dst, int64_t capacity, int64_t* written);

/* ---- preprocessing: [undistort] -> crop -> area resize -> RGB planar float (x * mul[c] + add[c]) ----
 * Downscaling averages each output pixel's footprint exactly (INTER_AREA's definition, kept in float); upscaling
 * uses cv::resize INTER_AREA. */
/* mul/add are per output channel in RGB order. */
RCV_API int rcv_pre_create(int out_width, int out_height, const float* mul3, const float* add3, rcv_pre** out);
/* Precomputes the undistortion maps for frames of width x height. K: 3x3 row-major; dist: k1,k2,p1,p2,k3. */
RCV_API int rcv_pre_set_undistort(rcv_pre* pre, int width, int height, const double* k9, const double* dist5);
/* Runs the pipeline on a width x height BGR8 frame, crop rectangle in source pixels, into dst (3*out_w*out_h). */
RCV_API int rcv_pre_run(rcv_pre* pre, const uint8_t* bgr, int width, int height,
                        int crop_x, int crop_y, int crop_width, int crop_height, float* dst, int64_t dst_length);
RCV_API void rcv_pre_release(rcv_pre* pre);
/* cv::resize INTER_AREA of a BGR8 image into dst (out_width*out_height*3 bytes): the reference for rcv_pre_run's
 * own area resampling, in tests and benchmarks. */
RCV_API int rcv_resize_area(const uint8_t* bgr, int width, int height, uint8_t* dst, int out_width, int out_height);

/* ---- calibration ---- */
/* Finds the cols x rows inner corners of a checkerboard and refines them to sub-pixel accuracy.
 * corners receives cols*rows (x, y) pairs, row by row; *found = 0 when the board is not (fully) visible. */
RCV_API int rcv_find_chessboard(const uint8_t* bgr, int width, int height, int cols, int rows,
                                float* corners, int* found);
/* cv::calibrateCamera over `views` boards of `points_per_view` points each (object: x,y,z; image: x,y).
 * Outputs K (3x3 row-major), dist (k1,k2,p1,p2,k3), overall RMS and per-view RMS reprojection error (pixels). */
RCV_API int rcv_calibrate(const float* object_points, const float* image_points, int points_per_view, int views,
                          int width, int height, double* k9, double* dist5, double* rms, double* per_view_rms);
/* cv::projectPoints: n object points (x,y,z) with pose rvec/tvec through K and dist into out (x,y pairs). */
RCV_API int rcv_project_points(const double* object_points, int n, const double* rvec3, const double* tvec3,
                               const double* k9, const double* dist5, double* out);

#ifdef __cplusplus
}
#endif
#endif
