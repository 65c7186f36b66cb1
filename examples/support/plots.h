// Pictures of a training run: a heatmap in the terminal's characters, and SVG files a browser opens.
// SVG is plain text, so writing one needs no library: a few <rect>, <polyline> and <text> elements.
#pragma once
#include <string>
#include <vector>

namespace trainer {

using Matrix = std::vector<std::vector<double>>;  // rows of equal length

// Attention weights (rows x cols, each in [0, 1]) as characters " .:-=+*#%@", from light to heavy, one cell per
// weight, with the column labels on top and the row labels on the left.
std::string text_heatmap(const Matrix& weights, const std::vector<std::string>& row_labels,
                         const std::vector<std::string>& col_labels);

// The same as an SVG image: one <rect class="cell"> per weight (white to dark blue, the value in its tooltip),
// labelled rows and columns, and a title. Throws std::invalid_argument if the labels do not fit the matrix.
std::string svg_heatmap(const Matrix& weights, const std::vector<std::string>& row_labels,
                        const std::vector<std::string>& col_labels, const std::string& title);

// One line of a plot: its points (xs[i], ys[i]) and its name for the legend.
struct Series {
    std::string name;
    std::vector<double> xs, ys;
};

// Lines on a logarithmic y axis, as an SVG image with one <polyline> per series (and a legend when there are
// several). Values must be positive; throws std::invalid_argument when there is no point at all, or a series has
// more xs than ys or fewer.
std::string svg_series_plot(const std::vector<Series>& series, const std::string& title, const std::string& x_label,
                          const std::string& y_label);
// One line of ys[i] against i + 1 (e.g. the loss at each step).
std::string svg_line_plot(const std::vector<double>& ys, const std::string& title, const std::string& x_label,
                          const std::string& y_label);

// Writes text to path, replacing the file atomically (never half-written); throws std::runtime_error naming the
// path if it cannot.
void write_text_file(const std::string& path, const std::string& text);

}  // namespace trainer
