// robotctl vision shim (see rcv.h). No C++ exception ever leaves an extern "C" function: each body runs inside
// guarded(), which turns cv::Exception, std::bad_alloc and anything else into a status code plus a thread-local
// message for rcv_last_error().
#include "rcv.h"

#include <opencv2/calib3d.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <mutex>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

// Four floats in one SSE register (GCC/Clang vector extension; SSE2 is the x86-64 baseline): a BGR pixel plus padding.
typedef float float4 __attribute__((vector_size(16)));

struct rcv_capture {
    cv::VideoCapture capture;
    cv::Mat raw;  // as decoded by the backend
    cv::Mat bgr;  // raw converted to BGR8 when it is not already
};
struct rcv_writer {
    cv::VideoWriter writer;
};
struct rcv_image {
    cv::Mat bgr;
};
struct rcv_pre {
    int out_width = 0, out_height = 0;
    float mul[3] = {1, 1, 1}, add[3] = {0, 0, 0};
    bool undistort = false;
    int map_width = 0, map_height = 0;
    cv::Mat map1, map2;   // fixed-point remap tables (CV_16SC2 + CV_16UC1), computed once
    cv::Mat undistorted;  // crop-sized remap output, reused
    cv::Mat resized;      // out_height x out_width BGR8, reused (upscaling path)
    // Area-resampling tables for the current crop size (rebuilt only when it changes).
    int table_width = 0, table_height = 0;
    std::vector<int> x_start, y_start;   // first source column / row of each output column / row
    std::vector<float> x_weight, y_weight;  // taps per output column / row, zero-padded to x_taps / y_taps
    int x_taps = 0, y_taps = 0;
    std::vector<float> row;              // one output row's vertical sums: crop_width * 3 floats
    std::vector<float4> row4;            // the same, one padded BGR_ pixel per vector
};

namespace {

thread_local std::string last_error;

int fail(int code, const std::string& message) {
    last_error = message;
    return code;
}

template <typename F>
int guarded(F&& body) {
    try {
        last_error.clear();
        return body();
    } catch (const cv::Exception& e) {
        return fail(RCV_ERR_OPENCV, e.what());
    } catch (const std::bad_alloc&) {
        return fail(RCV_ERR_NO_MEMORY, "out of memory");
    } catch (const std::exception& e) {
        return fail(RCV_ERR_UNKNOWN, e.what());
    } catch (...) {
        return fail(RCV_ERR_UNKNOWN, "unknown C++ exception");
    }
}

// OpenCV explains a failed VideoCapture::open only in its log (and GStreamer/FFmpeg in theirs), all on stderr. While a
// capture opens, stderr goes to an in-memory file so the text can be returned with the error (and is then written to
// the real stderr, so nothing another thread wrote meanwhile is lost); one open at a time.
class StderrCapture {
public:
    StderrCapture() : lock_(mutex_) {
        std::fflush(stderr);
        memory_ = memfd_create("rcv-stderr", MFD_CLOEXEC);
        if (memory_ >= 0) saved_ = dup(STDERR_FILENO);
        if (saved_ >= 0 && dup2(memory_, STDERR_FILENO) < 0) {
            close(saved_);
            saved_ = -1;
        }
    }
    ~StderrCapture() { finish(); }

    // Restores stderr and returns what was written meanwhile.
    std::string finish() {
        std::string text;
        if (saved_ >= 0) {
            std::fflush(stderr);
            dup2(saved_, STDERR_FILENO);
            close(saved_);
            saved_ = -1;
            char buffer[4096];
            ssize_t n;
            off_t offset = 0;
            while (text.size() < 65536 && (n = pread(memory_, buffer, sizeof buffer, offset)) > 0) {
                text.append(buffer, static_cast<size_t>(n));
                offset += n;
            }
        }
        if (memory_ >= 0) close(memory_);
        memory_ = -1;
        return text;
    }

private:
    static std::mutex mutex_;
    std::lock_guard<std::mutex> lock_;
    int memory_ = -1, saved_ = -1;
};
std::mutex StderrCapture::mutex_;

std::string depth_name(int depth) {
    switch (depth) {
        case CV_8U: return "8-bit unsigned";
        case CV_8S: return "8-bit signed";
        case CV_16U: return "16-bit unsigned";
        case CV_16S: return "16-bit signed";
        case CV_32S: return "32-bit integer";
        case CV_32F: return "32-bit float";
        case CV_64F: return "64-bit float";
        default: return "depth " + std::to_string(depth);
    }
}

int depth_bits(int depth) {
    switch (depth) {
        case CV_8U: case CV_8S: return 8;
        case CV_16U: case CV_16S: case CV_16F: return 16;
        case CV_32S: case CV_32F: return 32;
        default: return 64;
    }
}

// The one conversion to BGR8 used for camera frames and still images (documented in rcv.h).
int to_bgr8(const cv::Mat& src, cv::Mat& dst) {
    cv::Mat eight;
    if (src.depth() == CV_8U) {
        eight = src;
    } else if (src.depth() == CV_16U) {
        src.convertTo(eight, CV_8U, 1.0 / 257.0);  // 65535 -> 255: full range, no auto-contrast
    } else {
        return fail(RCV_ERR_UNSUPPORTED, "unsupported bit depth: " + depth_name(src.depth()) +
                                             " (supported: 8-bit and 16-bit unsigned)");
    }
    switch (eight.channels()) {
        case 1: cv::cvtColor(eight, dst, cv::COLOR_GRAY2BGR); break;
        case 3: dst = eight; break;
        case 4: cv::cvtColor(eight, dst, cv::COLOR_BGRA2BGR); break;  // alpha is dropped, not composited
        default:
            return fail(RCV_ERR_UNSUPPORTED, "unsupported channel count " + std::to_string(eight.channels()) +
                                                 " (supported: 1 gray, 3 BGR, 4 BGRA)");
    }
    return RCV_OK;
}

int copy_packed(const cv::Mat& bgr, uint8_t* dst, int64_t capacity) {
    if (!dst) return fail(RCV_ERR_ARGUMENT, "destination is null");
    const int64_t row = static_cast<int64_t>(bgr.cols) * 3;
    const int64_t need = row * bgr.rows;
    if (capacity < need)
        return fail(RCV_ERR_TOO_SMALL, "destination holds " + std::to_string(capacity) + " bytes, image needs " +
                                           std::to_string(need));
    if (bgr.isContinuous()) {
        std::memcpy(dst, bgr.data, static_cast<size_t>(need));
    } else {
        for (int y = 0; y < bgr.rows; ++y) std::memcpy(dst + y * row, bgr.ptr(y), static_cast<size_t>(row));
    }
    return RCV_OK;
}

int fourcc_code(const char* fourcc, int& code) {
    code = 0;
    if (!fourcc || !*fourcc) return RCV_OK;
    if (std::strlen(fourcc) != 4) return fail(RCV_ERR_ARGUMENT, std::string("FOURCC must be 4 characters, found '") + fourcc + "'");
    code = cv::VideoWriter::fourcc(fourcc[0], fourcc[1], fourcc[2], fourcc[3]);
    return RCV_OK;
}

// Box-filter (area) weights for resampling `source` samples onto `target` <= source samples: output i averages
// the source interval [i * s, (i + 1) * s), s = source / target, each sample weighted by its overlap, divided by s.
int area_weights(int source, int target, std::vector<int>& start, std::vector<float>& weight) {
    const double s = static_cast<double>(source) / target;
    const int taps = std::min(static_cast<int>(std::ceil(s)) + 1, source);  // window never runs past the end
    start.assign(target, 0);
    weight.assign(static_cast<size_t>(target) * taps, 0.0f);
    for (int i = 0; i < target; ++i) {
        const double lo = i * s, hi = std::min((i + 1) * s, static_cast<double>(source));
        const int first = static_cast<int>(std::floor(lo));
        start[i] = std::min(first, source - taps);
        for (int j = first; j < hi && j < source; ++j) {
            const double overlap = std::min(j + 1.0, hi) - std::max(static_cast<double>(j), lo);
            if (overlap > 0) weight[static_cast<size_t>(i) * taps + (j - start[i])] = static_cast<float>(overlap / s);
        }
    }
    return taps;
}

bool valid_size(int w, int h) { return w > 0 && h > 0 && static_cast<int64_t>(w) * h <= (int64_t(1) << 31) / 3; }

}  // namespace

extern "C" {

const char* rcv_last_error(void) { return last_error.c_str(); }

// ---- capture ----------------------------------------------------------------------------------------

int rcv_capture_open(const char* source, int index, int api, int width, int height, double fps, const char* fourcc,
                     int open_timeout_ms, int read_timeout_ms, rcv_capture** out) {
    return guarded([&] {
        if (!out) return fail(RCV_ERR_ARGUMENT, "out is null");
        *out = nullptr;
        int code = 0;
        if (int rc = fourcc_code(fourcc, code)) return rc;
        std::vector<int> params;
        if (open_timeout_ms > 0) params.insert(params.end(), {cv::CAP_PROP_OPEN_TIMEOUT_MSEC, open_timeout_ms});
        if (read_timeout_ms > 0) params.insert(params.end(), {cv::CAP_PROP_READ_TIMEOUT_MSEC, read_timeout_ms});
        auto cap = std::make_unique<rcv_capture>();
        StderrCapture log;
        bool opened = false;
        try {
            opened = source ? cap->capture.open(source, api, params) : cap->capture.open(index, api, params);
        } catch (...) {
            log.finish();
            throw;
        }
        const std::string said = log.finish();
        // Whatever reached stderr meanwhile still belongs there (other threads may have written too).
        if (!said.empty()) std::fputs(said.c_str(), stderr);
        if (!opened || !cap->capture.isOpened())
            return fail(RCV_ERR_OPEN, said.empty() ? std::string("OpenCV could not open the source and gave no reason")
                                                   : "OpenCV could not open the source: " + said);
        // FOURCC before size and rate: V4L2 drivers pick the sizes on offer per pixel format.
        if (code) cap->capture.set(cv::CAP_PROP_FOURCC, code);
        if (width > 0) cap->capture.set(cv::CAP_PROP_FRAME_WIDTH, width);
        if (height > 0) cap->capture.set(cv::CAP_PROP_FRAME_HEIGHT, height);
        if (fps > 0) cap->capture.set(cv::CAP_PROP_FPS, fps);
        *out = cap.release();
        return static_cast<int>(RCV_OK);
    });
}

int rcv_capture_read(rcv_capture* cap, int* got, int* width, int* height) {
    return guarded([&] {
        if (!cap || !got || !width || !height) return fail(RCV_ERR_ARGUMENT, "null argument");
        *got = 0;
        *width = *height = 0;
        if (!cap->capture.read(cap->raw) || cap->raw.empty()) return static_cast<int>(RCV_OK);
        if (cap->raw.depth() == CV_8U && cap->raw.channels() == 3) {
            cap->bgr = cap->raw;
        } else if (int rc = to_bgr8(cap->raw, cap->bgr)) {
            return rc;
        }
        *got = 1;
        *width = cap->bgr.cols;
        *height = cap->bgr.rows;
        return static_cast<int>(RCV_OK);
    });
}

int rcv_capture_copy(rcv_capture* cap, uint8_t* dst, int64_t capacity) {
    return guarded([&] {
        if (!cap || cap->bgr.empty()) return fail(RCV_ERR_ARGUMENT, "no frame has been read");
        return copy_packed(cap->bgr, dst, capacity);
    });
}

double rcv_capture_get(rcv_capture* cap, int property) {
    double value = 0;
    guarded([&] {
        if (cap) value = cap->capture.get(property);
        return static_cast<int>(RCV_OK);
    });
    return value;
}

int rcv_capture_backend(rcv_capture* cap, char* buf, int capacity) {
    return guarded([&] {
        if (!cap || !buf || capacity <= 0) return fail(RCV_ERR_ARGUMENT, "null argument");
        std::string name = cap->capture.getBackendName();
        std::snprintf(buf, static_cast<size_t>(capacity), "%s", name.c_str());
        return static_cast<int>(RCV_OK);
    });
}

void rcv_capture_release(rcv_capture* cap) {
    guarded([&] {
        delete cap;  // ~VideoCapture releases the device
        return static_cast<int>(RCV_OK);
    });
}

// ---- writer --------------------------------------------------------------------------------------------

int rcv_writer_open(const char* path, const char* fourcc, double fps, int width, int height, rcv_writer** out) {
    return guarded([&] {
        if (!out || !path) return fail(RCV_ERR_ARGUMENT, "null argument");
        *out = nullptr;
        if (!valid_size(width, height)) return fail(RCV_ERR_ARGUMENT, "invalid frame size");
        if (!(fps > 0)) return fail(RCV_ERR_ARGUMENT, "fps must be positive");
        int code = 0;
        if (int rc = fourcc_code(fourcc, code)) return rc;
        auto w = std::make_unique<rcv_writer>();
        if (!w->writer.open(path, code, fps, cv::Size(width, height), true) || !w->writer.isOpened())
            return fail(RCV_ERR_OPEN, std::string("OpenCV could not open a video writer for '") + path + "'");
        *out = w.release();
        return static_cast<int>(RCV_OK);
    });
}

int rcv_writer_write(rcv_writer* writer, const uint8_t* bgr, int width, int height) {
    return guarded([&] {
        if (!writer || !bgr) return fail(RCV_ERR_ARGUMENT, "null argument");
        if (!valid_size(width, height)) return fail(RCV_ERR_ARGUMENT, "invalid frame size");
        cv::Mat frame(height, width, CV_8UC3, const_cast<uint8_t*>(bgr));
        writer->writer.write(frame);
        return static_cast<int>(RCV_OK);
    });
}

void rcv_writer_release(rcv_writer* writer) {
    guarded([&] {
        delete writer;  // ~VideoWriter finalises the container
        return static_cast<int>(RCV_OK);
    });
}

// ---- still images ------------------------------------------------------------------------------------

int rcv_image_decode(const uint8_t* data, int64_t length, int64_t max_pixels, rcv_image** out, int* width, int* height,
                     int* source_channels, int* source_bits) {
    return guarded([&] {
        if (!out || !data || !width || !height || !source_channels || !source_bits)
            return fail(RCV_ERR_ARGUMENT, "null argument");
        *out = nullptr;
        if (length <= 0) return fail(RCV_ERR_DECODE, "no data (0 bytes)");
        if (length > INT32_MAX) return fail(RCV_ERR_TOO_LARGE, "encoded image larger than 2 GiB");
        cv::Mat encoded(1, static_cast<int>(length), CV_8UC1, const_cast<uint8_t*>(data));
        cv::Mat decoded = cv::imdecode(encoded, cv::IMREAD_UNCHANGED);
        if (decoded.empty())
            return fail(RCV_ERR_DECODE, "not a decodable image (unknown format, truncated or corrupt data)");
        *source_channels = decoded.channels();
        *source_bits = depth_bits(decoded.depth());
        if (max_pixels > 0 && static_cast<int64_t>(decoded.cols) * decoded.rows > max_pixels)
            return fail(RCV_ERR_TOO_LARGE, "image is " + std::to_string(decoded.cols) + "x" +
                                               std::to_string(decoded.rows) + ", over the limit of " +
                                               std::to_string(max_pixels) + " pixels");
        auto image = std::make_unique<rcv_image>();
        if (int rc = to_bgr8(decoded, image->bgr)) return rc;
        *width = image->bgr.cols;
        *height = image->bgr.rows;
        *out = image.release();
        return static_cast<int>(RCV_OK);
    });
}

int rcv_image_copy(rcv_image* image, uint8_t* dst, int64_t capacity) {
    return guarded([&] {
        if (!image) return fail(RCV_ERR_ARGUMENT, "image is null");
        return copy_packed(image->bgr, dst, capacity);
    });
}

void rcv_image_release(rcv_image* image) {
    guarded([&] {
        delete image;
        return static_cast<int>(RCV_OK);
    });
}

int rcv_image_encode(const uint8_t* bgr, int width, int height, const char* extension, int param, uint8_t* dst,
                     int64_t capacity, int64_t* written) {
    return guarded([&] {
        if (!bgr || !extension || !written) return fail(RCV_ERR_ARGUMENT, "null argument");
        *written = 0;
        if (!valid_size(width, height)) return fail(RCV_ERR_ARGUMENT, "invalid image size");
        std::vector<int> params;
        std::string ext(extension);
        if (param >= 0) {
            if (ext == ".jpg" || ext == ".jpeg") params = {cv::IMWRITE_JPEG_QUALITY, param};
            else if (ext == ".png") params = {cv::IMWRITE_PNG_COMPRESSION, param};
        }
        cv::Mat image(height, width, CV_8UC3, const_cast<uint8_t*>(bgr));
        std::vector<uint8_t> buffer;
        if (!cv::imencode(ext, image, buffer, params)) return fail(RCV_ERR_OPENCV, "OpenCV could not encode " + ext);
        *written = static_cast<int64_t>(buffer.size());
        if (!dst || capacity < *written)
            return fail(RCV_ERR_TOO_SMALL, "destination holds " + std::to_string(capacity) + " bytes, encoded " + ext +
                                               " needs " + std::to_string(*written));
        std::memcpy(dst, buffer.data(), buffer.size());
        return static_cast<int>(RCV_OK);
    });
}

// ---- preprocessing ------------------------------------------------------------------------------------

int rcv_pre_create(int out_width, int out_height, const float* mul3, const float* add3, rcv_pre** out) {
    return guarded([&] {
        if (!out || !mul3 || !add3) return fail(RCV_ERR_ARGUMENT, "null argument");
        *out = nullptr;
        if (!valid_size(out_width, out_height)) return fail(RCV_ERR_ARGUMENT, "invalid output size");
        auto pre = std::make_unique<rcv_pre>();
        pre->out_width = out_width;
        pre->out_height = out_height;
        for (int c = 0; c < 3; ++c) {
            pre->mul[c] = mul3[c];
            pre->add[c] = add3[c];
        }
        pre->resized.create(out_height, out_width, CV_8UC3);
        *out = pre.release();
        return static_cast<int>(RCV_OK);
    });
}

int rcv_pre_set_undistort(rcv_pre* pre, int width, int height, const double* k9, const double* dist5) {
    return guarded([&] {
        if (!pre || !k9 || !dist5) return fail(RCV_ERR_ARGUMENT, "null argument");
        if (!valid_size(width, height)) return fail(RCV_ERR_ARGUMENT, "invalid calibration image size");
        cv::Mat k(3, 3, CV_64F, const_cast<double*>(k9));
        cv::Mat d(1, 5, CV_64F, const_cast<double*>(dist5));
        // Same camera matrix for the output: undistorted pixels keep the calibrated focal length and centre.
        cv::initUndistortRectifyMap(k, d, cv::noArray(), k, cv::Size(width, height), CV_16SC2, pre->map1, pre->map2);
        pre->map_width = width;
        pre->map_height = height;
        pre->undistort = true;
        return static_cast<int>(RCV_OK);
    });
}

int rcv_pre_run(rcv_pre* pre, const uint8_t* bgr, int width, int height, int crop_x, int crop_y, int crop_width,
                int crop_height, float* dst, int64_t dst_length) {
    return guarded([&] {
        if (!pre || !bgr || !dst) return fail(RCV_ERR_ARGUMENT, "null argument");
        if (!valid_size(width, height)) return fail(RCV_ERR_ARGUMENT, "invalid frame size");
        const int64_t plane = static_cast<int64_t>(pre->out_width) * pre->out_height;
        if (dst_length < 3 * plane)
            return fail(RCV_ERR_TOO_SMALL, "destination holds " + std::to_string(dst_length) + " floats, needs " +
                                               std::to_string(3 * plane));
        if (crop_x < 0 || crop_y < 0 || crop_width <= 0 || crop_height <= 0 || crop_x + crop_width > width ||
            crop_y + crop_height > height)
            return fail(RCV_ERR_ARGUMENT, "crop rectangle lies outside the frame");
        const cv::Rect roi(crop_x, crop_y, crop_width, crop_height);
        cv::Mat frame(height, width, CV_8UC3, const_cast<uint8_t*>(bgr));
        cv::Mat source = frame(roi);
        if (pre->undistort) {
            if (width != pre->map_width || height != pre->map_height)
                return fail(RCV_ERR_ARGUMENT, "frame is " + std::to_string(width) + "x" + std::to_string(height) +
                                                  " but the calibration is for " + std::to_string(pre->map_width) +
                                                  "x" + std::to_string(pre->map_height));
            // Remapping through the crop window of the maps yields exactly the crop of the undistorted frame.
            cv::remap(frame, pre->undistorted, pre->map1(roi), pre->map2(roi), cv::INTER_LINEAR,
                      cv::BORDER_CONSTANT);
            source = pre->undistorted;
        }
        float* r = dst;
        float* g = dst + plane;
        float* b = dst + 2 * plane;
        const float mr = pre->mul[0], mg = pre->mul[1], mb = pre->mul[2];
        const float ar = pre->add[0], ag = pre->add[1], ab = pre->add[2];
        const int ow = pre->out_width, oh = pre->out_height;

        if (source.cols < ow || source.rows < oh) {
            // Upscaling: cv::resize INTER_AREA (bilinear there), then interleaved BGR -> planar RGB, normalised.
            cv::resize(source, pre->resized, cv::Size(ow, oh), 0, 0, cv::INTER_AREA);
            for (int y = 0; y < oh; ++y) {
                const uint8_t* px = pre->resized.ptr<uint8_t>(y);
                const int64_t base = static_cast<int64_t>(y) * ow;
                for (int x = 0; x < ow; ++x, px += 3) {
                    b[base + x] = px[0] * mb + ab;
                    g[base + x] = px[1] * mg + ag;
                    r[base + x] = px[2] * mr + ar;
                }
            }
            return static_cast<int>(RCV_OK);
        }

        // Downscaling (the usual case): exact area averaging, separable because each output pixel's footprint is a
        // rectangle. Rows first over whole contiguous source rows (vectorisable), then columns on the few summed
        // rows, straight into normalised planar floats: no 8-bit rounding in between, and about a third of the
        // work of cv::resize's general INTER_AREA path (see docs/perf/vision.md).
        if (pre->table_width != source.cols || pre->table_height != source.rows) {
            pre->x_taps = area_weights(source.cols, ow, pre->x_start, pre->x_weight);
            pre->y_taps = area_weights(source.rows, oh, pre->y_start, pre->y_weight);
            pre->row.assign(static_cast<size_t>(source.cols) * 3, 0.0f);
            pre->row4.assign(static_cast<size_t>(source.cols), float4{0, 0, 0, 0});
            pre->table_width = source.cols;
            pre->table_height = source.rows;
        }
        const int row_length = source.cols * 3;
        float* sums = pre->row.data();
        for (int y = 0; y < oh; ++y) {
            std::fill(sums, sums + row_length, 0.0f);
            const float* wy = &pre->y_weight[static_cast<size_t>(y) * pre->y_taps];
            for (int t = 0; t < pre->y_taps; ++t) {
                const float w = wy[t];
                if (w == 0.0f) continue;
                const uint8_t* px = source.ptr<uint8_t>(pre->y_start[y] + t);
                for (int k = 0; k < row_length; ++k) sums[k] += w * static_cast<float>(px[k]);
            }
            // Columns: one vector multiply-add per tap covers all three channels of a pixel.
            float4* pixels = pre->row4.data();
            for (int j = 0; j < source.cols; ++j) pixels[j] = float4{sums[3 * j], sums[3 * j + 1], sums[3 * j + 2], 0.0f};
            const int64_t base = static_cast<int64_t>(y) * ow;
            for (int x = 0; x < ow; ++x) {
                const float* wx = &pre->x_weight[static_cast<size_t>(x) * pre->x_taps];
                const float4* p = pixels + pre->x_start[x];
                float4 sum = {0, 0, 0, 0};
                for (int t = 0; t < pre->x_taps; ++t) sum += wx[t] * p[t];
                b[base + x] = sum[0] * mb + ab;
                g[base + x] = sum[1] * mg + ag;
                r[base + x] = sum[2] * mr + ar;
            }
        }
        return static_cast<int>(RCV_OK);
    });
}

int rcv_resize_area(const uint8_t* bgr, int width, int height, uint8_t* dst, int out_width, int out_height) {
    return guarded([&] {
        if (!bgr || !dst) return fail(RCV_ERR_ARGUMENT, "null argument");
        if (!valid_size(width, height) || !valid_size(out_width, out_height)) return fail(RCV_ERR_ARGUMENT, "invalid size");
        cv::Mat source(height, width, CV_8UC3, const_cast<uint8_t*>(bgr));
        cv::Mat target(out_height, out_width, CV_8UC3, dst);
        cv::resize(source, target, target.size(), 0, 0, cv::INTER_AREA);
        if (target.data != dst) return fail(RCV_ERR_UNKNOWN, "resize reallocated its output");
        return static_cast<int>(RCV_OK);
    });
}

void rcv_pre_release(rcv_pre* pre) {
    guarded([&] {
        delete pre;
        return static_cast<int>(RCV_OK);
    });
}

// ---- calibration --------------------------------------------------------------------------------------

int rcv_find_chessboard(const uint8_t* bgr, int width, int height, int cols, int rows, float* corners, int* found) {
    return guarded([&] {
        if (!bgr || !corners || !found) return fail(RCV_ERR_ARGUMENT, "null argument");
        *found = 0;
        if (!valid_size(width, height)) return fail(RCV_ERR_ARGUMENT, "invalid image size");
        if (cols < 2 || rows < 2) return fail(RCV_ERR_ARGUMENT, "board needs at least 2x2 inner corners");
        cv::Mat image(height, width, CV_8UC3, const_cast<uint8_t*>(bgr));
        cv::Mat gray;
        cv::cvtColor(image, gray, cv::COLOR_BGR2GRAY);
        std::vector<cv::Point2f> points;
        const cv::Size pattern(cols, rows);
        if (!cv::findChessboardCorners(gray, pattern, points,
                                       cv::CALIB_CB_ADAPTIVE_THRESH | cv::CALIB_CB_NORMALIZE_IMAGE |
                                           cv::CALIB_CB_FAST_CHECK) ||
            points.size() != static_cast<size_t>(cols) * rows)
            return static_cast<int>(RCV_OK);
        // Refinement window: about half the smallest corner spacing, so it never reaches a neighbouring corner.
        double spacing = 1e9;
        for (int r = 0; r < rows; ++r)
            for (int c = 0; c + 1 < cols; ++c)
                spacing = std::min(spacing, static_cast<double>(cv::norm(points[r * cols + c + 1] - points[r * cols + c])));
        const int half = std::clamp(static_cast<int>(spacing / 2.5), 2, 11);
        cv::cornerSubPix(gray, points, cv::Size(half, half), cv::Size(-1, -1),
                         cv::TermCriteria(cv::TermCriteria::EPS + cv::TermCriteria::COUNT, 50, 1e-3));
        for (size_t i = 0; i < points.size(); ++i) {
            corners[2 * i] = points[i].x;
            corners[2 * i + 1] = points[i].y;
        }
        *found = 1;
        return static_cast<int>(RCV_OK);
    });
}

int rcv_calibrate(const float* object_points, const float* image_points, int points_per_view, int views, int width,
                  int height, double* k9, double* dist5, double* rms, double* per_view_rms) {
    return guarded([&] {
        if (!object_points || !image_points || !k9 || !dist5 || !rms) return fail(RCV_ERR_ARGUMENT, "null argument");
        if (points_per_view < 4 || views < 1) return fail(RCV_ERR_ARGUMENT, "need at least one view of 4 points");
        std::vector<std::vector<cv::Point3f>> objects(views);
        std::vector<std::vector<cv::Point2f>> images(views);
        for (int v = 0; v < views; ++v) {
            for (int i = 0; i < points_per_view; ++i) {
                const int64_t j = static_cast<int64_t>(v) * points_per_view + i;
                objects[v].emplace_back(object_points[3 * j], object_points[3 * j + 1], object_points[3 * j + 2]);
                images[v].emplace_back(image_points[2 * j], image_points[2 * j + 1]);
            }
        }
        cv::Mat k, d, std_intrinsics, std_extrinsics, view_errors;
        std::vector<cv::Mat> rvecs, tvecs;
        *rms = cv::calibrateCamera(objects, images, cv::Size(width, height), k, d, rvecs, tvecs, std_intrinsics,
                                   std_extrinsics, view_errors);
        k.convertTo(k, CV_64F);
        d.convertTo(d, CV_64F);
        for (int i = 0; i < 9; ++i) k9[i] = k.at<double>(i / 3, i % 3);
        for (int i = 0; i < 5; ++i) dist5[i] = i < static_cast<int>(d.total()) ? d.at<double>(i) : 0.0;
        if (per_view_rms)
            for (int v = 0; v < views; ++v) per_view_rms[v] = view_errors.at<double>(v);
        return static_cast<int>(RCV_OK);
    });
}

int rcv_project_points(const double* object_points, int n, const double* rvec3, const double* tvec3, const double* k9,
                       const double* dist5, double* out) {
    return guarded([&] {
        if (!object_points || !rvec3 || !tvec3 || !k9 || !dist5 || !out) return fail(RCV_ERR_ARGUMENT, "null argument");
        if (n <= 0) return fail(RCV_ERR_ARGUMENT, "no points");
        cv::Mat objects(n, 1, CV_64FC3, const_cast<double*>(object_points));
        cv::Mat rvec(3, 1, CV_64F, const_cast<double*>(rvec3)), tvec(3, 1, CV_64F, const_cast<double*>(tvec3));
        cv::Mat k(3, 3, CV_64F, const_cast<double*>(k9)), d(1, 5, CV_64F, const_cast<double*>(dist5));
        cv::Mat projected(n, 1, CV_64FC2, out);
        cv::projectPoints(objects, rvec, tvec, k, d, projected);
        if (projected.data != reinterpret_cast<uchar*>(out)) return fail(RCV_ERR_UNKNOWN, "projection reallocated");
        return static_cast<int>(RCV_OK);
    });
}

}  // extern "C"
