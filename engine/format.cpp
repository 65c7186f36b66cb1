// Tensor printing that reproduces PyTorch 1.13's torch/_tensor_str.py with default print options.
//
// The work happens in three steps, the same as in PyTorch:
//   1. Pick the elements that will be shown (all of them, or only the edges of each dimension
//      when the tensor is large) and build one Formatter from those values. The Formatter
//      decides the number style (fixed "0.5000", integer-like "1.", or scientific "1.0000e-05")
//      and the column width, so every element of the tensor lines up.
//   2. Render the nested brackets: rows of right-aligned cells, long rows wrapped at 80
//      characters, and blank lines between the blocks of 3-D and higher tensors.
//   3. Append suffixes such as "requires_grad=True", moving one onto a new line when it would
//      make the last line too long.
#include "engine/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <stdexcept>

namespace ag {
namespace {

// PyTorch's default print options (torch.set_printoptions(profile="default")).
constexpr int kPrecision = 4;             // digits after the decimal point
constexpr std::size_t kThreshold = 1000;  // more elements than this are summarized with "..."
constexpr int64_t kEdgeItems = 3;         // elements kept at each end of a summarized dimension
constexpr int64_t kLineWidth = 80;        // rows are wrapped to fit this many characters
constexpr std::size_t kIndent = 7;        // the length of the "tensor(" prefix

// ---- Number to text ------------------------------------------------------------------------

// printf("%.*f") / printf("%.*e") match Python's "{:.4f}" / "{:.4e}" (both round the exact binary
// value correctly, and both write at least two exponent digits), except for NaN: Python always
// prints "nan", while printf prints "-nan" when the sign bit is set (as it is after 0/0 on x86).
std::string printf_number(double v, int digits, bool scientific) {
    if (std::isnan(v)) return "nan";
    const char* pattern = scientific ? "%.*e" : "%.*f";
    int length = std::snprintf(nullptr, 0, pattern, digits, v);
    std::string text(static_cast<std::size_t>(length) + 1, '\0');
    std::snprintf(text.data(), text.size(), pattern, digits, v);
    text.pop_back();  // drop the terminating '\0' that snprintf wrote
    return text;
}

// One number style and one column width for a whole tensor (PyTorch's _Formatter).
struct Formatter {
    ValueKind kind = ValueKind::Floating;
    bool int_mode = true;   // floats that are all whole numbers print as "3." instead of "3.0000"
    bool sci_mode = false;  // floats print as "1.0000e-05"
    std::size_t width = 1;  // every cell is right-aligned to this many characters

    // The value without padding.
    std::string text(int64_t v) const { return std::to_string(v); }  // integers print exactly
    std::string text(double v) const {
        if (kind == ValueKind::Boolean) return v != 0 ? "True" : "False";
        if (sci_mode) return printf_number(v, kPrecision, true);
        // The trailing "." marks a whole-number float; nan and inf get none.
        if (int_mode) return printf_number(v, 0, false) + (std::isfinite(v) ? "." : "");
        return printf_number(v, kPrecision, false);
    }

    // The value right-aligned in its column. Text longer than the width (nan, inf, -0.0000 are
    // not measured, see make_formatter) is left as it is.
    template <typename V>
    std::string cell(V v) const {
        std::string t = text(v);
        return std::string(width - std::min(width, t.size()), ' ') + t;
    }
};

// Chooses the style of floating-point values. Only nonzero finite values count: zeros, nan and
// inf would otherwise force a style (0 is "whole", nan is not) that says nothing about the data.
void choose_float_style(Formatter& f, const std::vector<double>& measured) {
    double min_abs = std::numeric_limits<double>::infinity(), max_abs = 0;
    for (double v : measured) {
        if (v != std::ceil(v)) f.int_mode = false;
        min_abs = std::min(min_abs, std::abs(v));
        max_abs = std::max(max_abs, std::abs(v));
    }
    // Scientific notation when fixed-point would waste the four digits: a huge spread of
    // magnitudes, very large values, or (for fractional data) very small values.
    f.sci_mode = max_abs / min_abs > 1000.0 || max_abs > 1.0e8 || (!f.int_mode && min_abs < 1.0e-4);
}

// Builds the formatter from the values that will actually be printed.
Formatter make_formatter(ValueKind kind, const std::vector<double>& shown) {
    Formatter f;
    f.kind = kind;
    std::vector<double> measured;  // the values whose text sets the column width
    for (double v : shown) {
        if (kind != ValueKind::Floating || (std::isfinite(v) && v != 0)) measured.push_back(v);
    }
    // With no nonzero finite float, PyTorch keeps the defaults: int_mode, width 1.
    if (kind == ValueKind::Floating && !measured.empty()) choose_float_style(f, measured);
    for (double v : measured) f.width = std::max(f.width, f.text(v).size());
    return f;
}
Formatter make_formatter(ValueKind, const std::vector<int64_t>& shown) {
    Formatter f;
    f.kind = ValueKind::Integer;
    for (int64_t v : shown) f.width = std::max(f.width, f.text(v).size());
    return f;
}

// ---- Walking the tensor --------------------------------------------------------------------

// The tensor being printed, with row-major strides so an element is value(sum(index * stride)); V is double for
// floats and booleans, int64_t for integers. Only the elements shown are ever read.
template <typename V>
struct Layout {
    const std::vector<int64_t>& shape;
    const std::function<V(int64_t)>& value;
    std::vector<int64_t> strides;
    bool summarize;  // true when the tensor has more than kThreshold elements
};

constexpr int64_t kGap = -1;  // marks the "..." between the two shown ends of a dimension

// The indices shown along a dimension of size n: all of them, or when summarizing a dimension
// longer than 2 * kEdgeItems, the first and last kEdgeItems with a gap between them.
std::vector<int64_t> shown_indices(int64_t n, bool summarize) {
    std::vector<int64_t> indices;
    bool cut = summarize && n > 2 * kEdgeItems;
    for (int64_t i = 0; i < n; ++i) {
        if (cut && i == kEdgeItems) {
            indices.push_back(kGap);
            i = n - kEdgeItems;
        }
        indices.push_back(i);
    }
    return indices;
}

// Appends the shown elements below (dim, offset) to out, in print order. The formatter is built
// from these alone, so a huge value hidden in the summarized middle does not change the style.
template <typename V>
void collect_shown(const Layout<V>& t, std::size_t dim, int64_t offset, std::vector<V>& out) {
    if (dim == t.shape.size()) {
        out.push_back(t.value(offset));
        return;
    }
    for (int64_t i : shown_indices(t.shape[dim], t.summarize)) {
        if (i != kGap) collect_shown(t, dim + 1, offset + i * t.strides[dim], out);
    }
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? separator : "") + parts[i];
    return out;
}

// The innermost dimension: "[a, b, c]", wrapped so each line holds as many cells as fit in the
// line width after the indent. Continuation lines are indented one past the "[".
template <typename V>
std::string render_row(const Layout<V>& t, const Formatter& f, int64_t offset, std::size_t indent) {
    std::vector<std::string> cells;
    for (int64_t i : shown_indices(t.shape.back(), t.summarize)) {
        // The last dimension has stride 1, so element i of the row sits at offset + i.
        auto at = static_cast<std::size_t>(offset + i);
        cells.push_back(i == kGap ? " ..." : f.cell(t.value(at)));
    }
    // Each cell takes its width plus ", ". The room is the line width minus the indent (the
    // column of this row's "["); PyTorch always allows at least one cell per line.
    int64_t cell_length = static_cast<int64_t>(f.width) + 2;
    auto per_line = static_cast<std::size_t>(
        std::max<int64_t>(1, (kLineWidth - static_cast<int64_t>(indent)) / cell_length));
    std::vector<std::string> lines;
    for (std::size_t start = 0; start < cells.size(); start += per_line) {
        std::vector<std::string> line;
        std::size_t end = std::min(cells.size(), start + per_line);
        for (std::size_t i = start; i < end; ++i) line.push_back(cells[i]);
        lines.push_back(join(line, ", "));
    }
    return "[" + join(lines, ",\n" + std::string(indent + 1, ' ')) + "]";
}

// Brackets for dimension dim and everything inside it. Sub-blocks are separated by a comma and
// as many line breaks as they have dimensions minus one: rows of a matrix sit on consecutive
// lines, the matrices of a 3-D tensor have one blank line between them, and so on.
template <typename V>
std::string render(const Layout<V>& t, const Formatter& f, std::size_t dim, int64_t offset,
                   std::size_t indent) {
    if (dim + 1 == t.shape.size()) return render_row(t, f, offset, indent);
    std::vector<std::string> blocks;
    for (int64_t i : shown_indices(t.shape[dim], t.summarize)) {
        if (i == kGap) blocks.push_back("...");
        else blocks.push_back(render(t, f, dim + 1, offset + i * t.strides[dim], indent + 1));
    }
    std::size_t inner_dims = t.shape.size() - dim - 1;
    std::string separator = "," + std::string(inner_dims, '\n') + std::string(indent + 1, ' ');
    return "[" + join(blocks, separator) + "]";
}

// ---- Suffixes ------------------------------------------------------------------------------

// Appends ", suffix" for each suffix, or ",\n" + indent + suffix when the suffix would push the
// current line past the line width (PyTorch's _add_suffixes).
std::string add_suffixes(std::string text, const std::vector<std::string>& suffixes) {
    // PyTorch measures the last line as two characters longer than it is (len - rfind("\n") + 1);
    // we keep that so lines break exactly where PyTorch breaks them.
    std::size_t newline = text.rfind('\n');
    std::size_t last_line = newline == std::string::npos ? text.size() : text.size() - newline - 1;
    std::size_t line = last_line + 2;
    for (const std::string& suffix : suffixes) {
        if (line + suffix.size() + 2 > static_cast<std::size_t>(kLineWidth)) {
            text += ",\n" + std::string(kIndent, ' ') + suffix;
            line = kIndent + suffix.size();
        } else {
            text += ", " + suffix;
            line += suffix.size() + 2;
        }
    }
    return text + ")";
}

// Python's str(tuple(shape)): "(0, 3)", and "(5,)" for one dimension.
std::string shape_text(const std::vector<int64_t>& shape) {
    std::vector<std::string> sizes;
    for (int64_t n : shape) sizes.push_back(std::to_string(n));
    return "(" + join(sizes, ", ") + (shape.size() == 1 ? ",)" : ")");
}

std::vector<int64_t> row_major_strides(const std::vector<int64_t>& shape) {
    std::vector<int64_t> strides(shape.size(), 1);
    for (std::size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
    return strides;
}

// Every overload: count the elements, render the body from the elements shown, add the suffixes.
template <typename V>
std::string format_values(const std::vector<int64_t>& shape, const std::function<V(int64_t)>& value, ValueKind kind,
                          const std::vector<std::string>& suffixes) {
    int64_t numel = 1;
    for (int64_t n : shape) {
        if (n < 0) throw std::invalid_argument("format_tensor: bad shape " + shape_text(shape));
        numel *= n;
    }
    std::vector<std::string> all_suffixes;
    std::string body = "[]";
    if (numel == 0) {
        // An empty tensor shows its shape unless it is 1-D, as NumPy does.
        if (shape.size() != 1) all_suffixes.push_back("size=" + shape_text(shape));
    } else {
        Layout<V> t{shape, value, row_major_strides(shape), numel > static_cast<int64_t>(kThreshold)};
        std::vector<V> shown;
        collect_shown(t, 0, 0, shown);
        Formatter f = make_formatter(kind, shown);
        body = shape.empty() ? f.cell(value(0)) : render(t, f, 0, 0, kIndent);
    }
    all_suffixes.insert(all_suffixes.end(), suffixes.begin(), suffixes.end());
    return add_suffixes("tensor(" + body, all_suffixes);
}

// The vector overloads: the values must be exactly the shape's elements.
template <typename V>
std::string format_vector(const std::vector<int64_t>& shape, const std::vector<V>& values, ValueKind kind,
                          const std::vector<std::string>& suffixes) {
    int64_t numel = 1;
    for (int64_t n : shape) numel *= n < 0 ? 0 : n;
    if (static_cast<std::size_t>(numel) != values.size())
        throw std::invalid_argument("format_tensor: shape " + shape_text(shape) + " needs " + std::to_string(numel) +
                                    " values; got " + std::to_string(values.size()));
    const std::function<V(int64_t)> value = [&values](int64_t i) { return values[static_cast<std::size_t>(i)]; };
    return format_values(shape, value, kind, suffixes);
}

}  // namespace

std::string format_tensor(const std::vector<int64_t>& shape, const std::vector<double>& values, ValueKind kind,
                          const std::vector<std::string>& suffixes) {
    if (kind == ValueKind::Integer)
        throw std::invalid_argument("format_tensor: integers are formatted from int64 values, exactly");
    return format_vector(shape, values, kind, suffixes);
}

std::string format_tensor(const std::vector<int64_t>& shape, const std::vector<int64_t>& values,
                          const std::vector<std::string>& suffixes) {
    return format_vector(shape, values, ValueKind::Integer, suffixes);
}

std::string format_elements(const std::vector<int64_t>& shape, const std::function<double(int64_t)>& value,
                            ValueKind kind, const std::vector<std::string>& suffixes) {
    if (kind == ValueKind::Integer)
        throw std::invalid_argument("format_tensor: integers are formatted from int64 values, exactly");
    return format_values(shape, value, kind, suffixes);
}

std::string format_elements(const std::vector<int64_t>& shape, const std::function<int64_t(int64_t)>& value,
                            const std::vector<std::string>& suffixes) {
    return format_values(shape, value, ValueKind::Integer, suffixes);
}

}  // namespace ag
