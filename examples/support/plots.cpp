#include "examples/support/plots.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "io/atomic_file.h"

namespace trainer {

namespace {

// printf into a std::string (the SVG coordinates and tick labels).
template <typename... Args>
std::string format(const char* fmt, Args... args) {
    char buf[256];
    std::snprintf(buf, sizeof buf, fmt, args...);
    return buf;
}

// Labels are user text inside XML: escape the characters that would end a tag or an entity.
std::string xml_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '<') out += "&lt;";
        else if (c == '>') out += "&gt;";
        else if (c == '&') out += "&amp;";
        else if (c == '"') out += "&quot;";
        else out += c;
    }
    return out;
}

size_t longest(const std::vector<std::string>& labels) {
    size_t n = 0;
    for (const std::string& s : labels) n = std::max(n, s.size());
    return n;
}

void check_labels(const Matrix& w, const std::vector<std::string>& rows, const std::vector<std::string>& cols) {
    if (w.size() != rows.size() || (!w.empty() && w[0].size() != cols.size()))
        throw std::invalid_argument("heatmap: need one label per row and per column; got a " +
                                    std::to_string(w.size()) + " x " + std::to_string(w.empty() ? 0 : w[0].size()) +
                                    " matrix with " + std::to_string(rows.size()) + " row and " +
                                    std::to_string(cols.size()) + " column labels");
}

std::string svg_open(int width, int height) {
    return format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                  "font-family=\"sans-serif\" font-size=\"12\">\n",
                  width, height, width, height) +
           format("<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", width, height);
}

std::string svg_text(double x, double y, const std::string& text, const char* anchor = "start", int size = 12) {
    return format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\">", x, y, anchor, size) +
           xml_escape(text) + "</text>\n";
}

// A tick step of 1, 2 or 5 times a power of ten giving about `ticks` ticks over `range`.
double nice_step(double range, int ticks) {
    const double raw = range / ticks, power = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0})
        if (m * power >= raw) return m * power;
    return 10 * power;
}

}  // namespace

std::string text_heatmap(const Matrix& weights, const std::vector<std::string>& row_labels,
                         const std::vector<std::string>& col_labels) {
    check_labels(weights, row_labels, col_labels);
    static const std::string ramp = " .:-=+*#%@";  // weight 0 .. 1
    const size_t label_width = longest(row_labels), cell = std::max<size_t>(2, longest(col_labels)) + 1;
    std::string out(label_width + 2, ' ');
    for (const std::string& c : col_labels) out += c + std::string(cell - c.size(), ' ');
    out += "\n";
    for (size_t r = 0; r < weights.size(); ++r) {
        out += std::string(label_width - row_labels[r].size(), ' ') + row_labels[r] + "  ";
        for (double w : weights[r]) {
            const size_t level = static_cast<size_t>(std::lround(std::clamp(w, 0.0, 1.0) * (ramp.size() - 1)));
            out += std::string(cell - 1, ramp[level]) + " ";
        }
        out += "\n";
    }
    return out;
}

std::string svg_heatmap(const Matrix& weights, const std::vector<std::string>& row_labels,
                        const std::vector<std::string>& col_labels, const std::string& title) {
    check_labels(weights, row_labels, col_labels);
    const int cell = 28, left = 24 + 8 * static_cast<int>(longest(row_labels)), top = 56;
    const int rows = static_cast<int>(weights.size()), cols = static_cast<int>(col_labels.size());
    const int title_width = 16 + 8 * static_cast<int>(title.size());  // about 8 px a character at 14 px
    std::string svg = svg_open(std::max(left + cols * cell + 16, title_width), top + rows * cell + 16);
    svg += svg_text(8, 22, title, "start", 14);
    for (int c = 0; c < cols; ++c) svg += svg_text(left + (c + 0.5) * cell, top - 8, col_labels[c], "middle");
    for (int r = 0; r < rows; ++r) {
        svg += svg_text(left - 8, top + (r + 0.5) * cell + 4, row_labels[r], "end");
        for (int c = 0; c < cols; ++c) {
            // white (weight 0) to dark blue rgb(8, 48, 107) (weight 1)
            const double w = std::clamp(weights[r][c], 0.0, 1.0);
            const auto shade = [w](int dark) { return static_cast<int>(std::lround(255 + (dark - 255) * w)); };
            svg += format("<rect class=\"cell\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"rgb(%d,%d,%d)\" "
                          "stroke=\"#ddd\"><title>%.3f</title></rect>\n",
                          left + c * cell, top + r * cell, cell, cell, shade(8), shade(48), shade(107), w);
        }
    }
    return svg + "</svg>\n";
}

std::string svg_series_plot(const std::vector<Series>& series, const std::string& title, const std::string& x_label,
                          const std::string& y_label) {
    std::vector<double> all_x, all_y;
    for (const Series& s : series) {
        if (s.xs.size() != s.ys.size())
            throw std::invalid_argument("svg_series_plot: series '" + s.name + "' has " + std::to_string(s.xs.size()) +
                                        " x values and " + std::to_string(s.ys.size()) + " y values");
        all_x.insert(all_x.end(), s.xs.begin(), s.xs.end());
        all_y.insert(all_y.end(), s.ys.begin(), s.ys.end());
    }
    if (all_y.empty()) throw std::invalid_argument("svg_series_plot: need at least one point; got none");
    const double W = 640, H = 400, left = 70, right = 20, top = 40, bottom = 50;
    // y on a log scale between whole powers of ten; x over the points' range
    const auto [lo_it, hi_it] = std::minmax_element(all_y.begin(), all_y.end());
    const double y_lo = std::floor(std::log10(std::max(*lo_it, 1e-12)));
    const double y_hi = std::max(std::ceil(std::log10(std::max(*hi_it, 1e-12))), y_lo + 1);
    const auto [x_lo_it, x_hi_it] = std::minmax_element(all_x.begin(), all_x.end());
    const double x_lo = *x_lo_it, x_hi = std::max(*x_hi_it, x_lo + 1);
    const auto px = [&](double x) { return left + (x - x_lo) / (x_hi - x_lo) * (W - left - right); };
    const auto py = [&](double y) {
        return top + (y_hi - std::log10(std::max(y, 1e-12))) / (y_hi - y_lo) * (H - top - bottom);
    };
    std::string svg = svg_open(static_cast<int>(W), static_cast<int>(H)) + svg_text(left, 24, title, "start", 14);
    svg += format("<path d=\"M%.1f %.1fV%.1fH%.1f\" fill=\"none\" stroke=\"black\"/>\n", left, top, H - bottom,
                  W - right);
    for (double e = y_lo; e <= y_hi; ++e) {  // a grid line and a label at each power of ten
        const double y = py(std::pow(10, e));
        svg += format("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", left, y, W - right, y);
        svg += svg_text(left - 6, y + 4, format("%g", std::pow(10, e)), "end");
    }
    const double step = nice_step(x_hi - x_lo, 5);
    for (double x = std::ceil(x_lo / step) * step; x <= x_hi; x += step)
        svg += svg_text(px(x), H - bottom + 18, format("%g", x), "middle");
    svg += svg_text((left + W - right) / 2, H - 10, x_label, "middle");
    svg += format("<text transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\">",
                  (top + H - bottom) / 2) + xml_escape(y_label) + "</text>\n";
    static const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"};
    for (size_t k = 0; k < series.size(); ++k) {
        const Series& s = series[k];
        const char* color = colors[k % 4];
        svg += format("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1\" points=\"", color);
        for (size_t i = 0; i < s.ys.size(); ++i) svg += format(i ? " %.1f,%.1f" : "%.1f,%.1f", px(s.xs[i]), py(s.ys[i]));
        svg += "\"/>\n";
        if (series.size() > 1)  // a legend: the series' names in their colours, top right
            svg += format("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"%s\">", W - right - 8,
                          top + 16 + 16 * k, color) + xml_escape(s.name) + "</text>\n";
    }
    return svg + "</svg>\n";
}

std::string svg_line_plot(const std::vector<double>& ys, const std::string& title, const std::string& x_label,
                          const std::string& y_label) {
    if (ys.empty()) throw std::invalid_argument("svg_line_plot: need at least one point; got none");
    Series s{y_label, std::vector<double>(ys.size()), ys};
    for (size_t i = 0; i < ys.size(); ++i) s.xs[i] = static_cast<double>(i + 1);
    return svg_series_plot({s}, title, x_label, y_label);
}

void write_text_file(const std::string& path, const std::string& text) {
    ag::write_text_file_atomically(path, text, "write_text_file");
}

}  // namespace trainer
