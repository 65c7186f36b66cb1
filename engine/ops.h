// Every tensor op of the engine, as free functions. Each one is differentiable where the math allows (float dtypes),
// records a Node when an input requires grad, and throws std::invalid_argument on bad input, in the form
// "op: rule; got <actual>".
//
// Binary ops broadcast NumPy/PyTorch-style; both operands must have the same dtype (no silent promotion).
#pragma once
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "engine/tensor.h"

namespace ag {

class Generator;

// ---- creation (creation.cpp) -------------------------------------------------------------------------------
Tensor zeros(const Shape& shape, DType dtype = DType::Float32);
Tensor ones(const Shape& shape, DType dtype = DType::Float32);
Tensor full(const Shape& shape, double value, DType dtype = DType::Float32);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
// 0, 1, ..., end-1 and start, start+step, ... (< end for step > 0); float32 by default, like torch.arange(1.0, ..).
Tensor arange(double end, DType dtype = DType::Float32);
Tensor arange(double start, double end, double step = 1, DType dtype = DType::Float32);
// Lower / upper triangle of the last two dims; the rest is zero. diagonal > 0 keeps that many diagonals more.
Tensor tril(const Tensor& t, int64_t diagonal = 0);
Tensor triu(const Tensor& t, int64_t diagonal = 0);

// Random tensors drawn exactly as PyTorch's CPU generator draws them (see random.h): after manual_seed(s), float32
// results equal torch's bit for bit. `gen` defaults to the process-wide generator.
Tensor randn(const Shape& shape, DType dtype = DType::Float32, Generator* gen = nullptr);   // standard normal
Tensor rand(const Shape& shape, DType dtype = DType::Float32, Generator* gen = nullptr);    // uniform in [0, 1)
Tensor randint(int64_t low, int64_t high, const Shape& shape, Generator* gen = nullptr);    // int64 in [low, high)
// torch.multinomial: num_samples int64 positions per row of probs (K) or (rows, K), drawn with probability
// proportional to the (non-negative, finite, not all zero) weights; (num_samples) or (rows, num_samples). Without
// replacement num_samples is in [1, K]; with replacement any num_samples >= 1. PyTorch's samples bit for bit.
Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement = false, Generator* gen = nullptr);
// multinomial(probs, n, gen): without replacement (so that a generator is never read as `replacement`).
Tensor multinomial(const Tensor& probs, int64_t num_samples, Generator* gen);
Tensor multinomial(const Tensor& probs);  // one sample per row, without replacement
// In train mode, zeroes each element with probability p and scales the others by 1 / (1 - p), with PyTorch's mask
// (one draw per element, row-major): after manual_seed, the same elements as F.dropout drops. Not training, or p = 0:
// x itself; p = 1: zeros. Differentiable (dx = dout * the same mask). Throws unless 0 <= p <= 1.
Tensor dropout(const Tensor& x, double p, bool training = true, Generator* gen = nullptr);

// A nested list of numbers: NestedList{{1, 2}, {3, 4}} is a 2x2 list. Ragged lists are refused.
class NestedList {
public:
    NestedList(double v) : values_{v} {}  // NOLINT: implicit so that tensor({1.0, 2.0}) reads as in Python
    NestedList(std::initializer_list<NestedList> items);
    const Shape& shape() const { return shape_; }
    const std::vector<double>& values() const { return values_; }

private:
    Shape shape_;
    std::vector<double> values_;
};
// tensor({{1, 2}, {3, 4}}) like torch.tensor; tensor(3.0) is 0-d.
Tensor tensor(const NestedList& data, DType dtype = DType::Float32);
// A tensor of the given shape holding `values` in row-major order (values.size() must equal the shape's numel).
Tensor from_vector(const std::vector<float>& values, const Shape& shape);
Tensor from_vector(const std::vector<double>& values, const Shape& shape);
Tensor from_vector(const std::vector<int64_t>& values, const Shape& shape);
// A bool tensor (masks): from_vector(std::vector<bool>{true, false}, {2}). As for the overloads above, the call
// names the vector's type (a bare brace list of values matches none of them better than the others).
Tensor from_vector(const std::vector<bool>& values, const Shape& shape);

// ---- element-wise (elementwise.cpp) ------------------------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor neg(const Tensor& a);
Tensor pow(const Tensor& a, double exponent);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor relu(const Tensor& a);
// x * Phi(x), Phi the standard normal CDF (approximate "none", torch's default), or its tanh approximation
// (approximate "tanh", GPT-2's and nanoGPT's).
Tensor gelu(const Tensor& a, const std::string& approximate = "none");

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
// With a number, the number acts as a 0-d tensor of the other operand's dtype.
Tensor operator+(const Tensor& a, double s);
Tensor operator+(double s, const Tensor& a);
Tensor operator-(const Tensor& a, double s);
Tensor operator-(double s, const Tensor& a);
Tensor operator*(const Tensor& a, double s);
Tensor operator*(double s, const Tensor& a);
Tensor operator/(const Tensor& a, double s);
Tensor operator/(double s, const Tensor& a);

// In place, no autograd: a += b (b broadcast to a's shape). Used for gradient accumulation and optimisers.
void add_(const Tensor& a, const Tensor& b);

// Comparisons give a bool mask of the broadcast shape; no gradient.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor operator==(const Tensor& a, double s);
Tensor operator!=(const Tensor& a, double s);
Tensor operator<(const Tensor& a, double s);
Tensor operator<=(const Tensor& a, double s);
Tensor operator>(const Tensor& a, double s);
Tensor operator>=(const Tensor& a, double s);
Tensor operator==(const Tensor& a, const Tensor& b);
Tensor operator!=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);

// |a - b| <= atol + rtol * |b| everywhere (shapes broadcast); NaN never equals NaN, as in torch.allclose.
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8);

// out = a where mask is false, value where mask is true; mask is bool and broadcasts to a's shape.
Tensor masked_fill(const Tensor& a, const Tensor& mask, double value);

// ---- more element-wise (sigmoid in elementwise.cpp, the rest in elementwise_more.cpp) -------------------------
// Float tensors only, any shape; the two-tensor ones broadcast and need one dtype.
Tensor sigmoid(const Tensor& a);  // 1 / (1 + exp(-a))
Tensor abs(const Tensor& a);      // |a|; gradient sign(a), 0 at 0 (as torch)
// torch::clamp: min(max(a, min), max), either bound optional; gradient 1 where min <= a <= max (bounds included),
// 0 outside; min > max gives max everywhere, as in PyTorch. Throws when both bounds are absent.
Tensor clamp(const Tensor& a, std::optional<double> min, std::optional<double> max);
// The element-wise smaller / larger of a and b (NaN wins, as in torch); at a tie each gets half the gradient.
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor silu(const Tensor& a);   // a * sigmoid(a)
Tensor log1p(const Tensor& a);  // log(1 + a), accurate for small a
Tensor sin(const Tensor& a);
Tensor cos(const Tensor& a);

// ---- reductions (reduce.cpp) ---------------------------------------------------------------------------------
// sum: a floating tensor sums in its own dtype; a bool or int64 one sums exactly into int64 (no gradient), as in
// torch, so (a == b).sum() is a count. mean: floating tensors only; for a rate, mean(mask.to(DType::Float32)).
// mean of a bool or int64 tensor throws "mean: could not infer the output dtype; ...".
Tensor sum(const Tensor& a);                                      // all elements -> 0-d
Tensor sum(const Tensor& a, int64_t dim, bool keepdim = false);
Tensor mean(const Tensor& a);
Tensor mean(const Tensor& a, int64_t dim, bool keepdim = false);
// Largest element; the gradient goes to the first position holding it.
Tensor max(const Tensor& a);
// (values, int64 indices) of the maximum along dim, as torch.max(t, dim); the gradient goes to the index returned.
std::tuple<Tensor, Tensor> max(const Tensor& a, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& a, int64_t dim, bool keepdim = false);   // int64 positions of the first maximum
// Sums a tensor of a broadcast shape back down to `shape` (the reverse of broadcasting): the gradient rule of
// every broadcasting op. Throws if `shape` does not broadcast to a's shape.
Tensor sum_to(const Tensor& a, const Shape& shape);

// ---- statistics (statistics.cpp) -----------------------------------------------------------------------------
// Floating tensors only; dim may be negative (a 0-d tensor takes dim 0 or -1). Each throws for another dtype or a
// dim out of range. With keepdim the reduced dim stays, of size 1; otherwise it is removed.
// torch::var: sum((a - mean)^2) / (N - 1) over the N elements along dim (unbiased: Bessel's correction), or / N;
// N = 1 with unbiased gives NaN (0 / 0), as does N = 0, as in PyTorch. var(a), var(a, false): all elements -> 0-d.
Tensor var(const Tensor& a, bool unbiased = true);
Tensor var(const Tensor& a, int64_t dim, bool unbiased = true, bool keepdim = false);
// So that var(a, 1) means dim 1: an int matches this overload exactly (int -> bool and int -> int64_t would tie).
inline Tensor var(const Tensor& a, int dim, bool unbiased = true, bool keepdim = false) {
    return var(a, int64_t{dim}, unbiased, keepdim);
}
// torch::std: sqrt(var), with var's overloads and NaN cases; its gradient is 0 where std is 0, as PyTorch's.
Tensor std(const Tensor& a, bool unbiased = true);
Tensor std(const Tensor& a, int64_t dim, bool unbiased = true, bool keepdim = false);
inline Tensor std(const Tensor& a, int dim, bool unbiased = true, bool keepdim = false) {
    return std(a, int64_t{dim}, unbiased, keepdim);
}
// torch::logsumexp: log(sum(exp(a))) along dim, as m + log(sum(exp(a - m))) with m the slice's max (no overflow).
// A slice of all -inf gives -inf, one holding +inf gives +inf, a dim of size 0 gives -inf, as in PyTorch; the
// gradient softmax(a) = exp(a - out) is NaN exactly where PyTorch's is (an all -inf slice, a +inf element).
Tensor logsumexp(const Tensor& a, int64_t dim, bool keepdim = false);
// torch::cumsum: out[.., i, ..] = sum of a[.., j, ..] for j <= i along dim; a's shape. Gradient: dout summed from
// the end (da[i] = sum of dout[j] for j >= i).
Tensor cumsum(const Tensor& a, int64_t dim);

// ---- selection (reduce.cpp, selection.cpp, sort.cpp)---------------------------------------------------------------
// Smallest element (0-d); the gradient goes to the first position holding it.
Tensor min(const Tensor& a);
// (values, int64 indices) of the first minimum along dim, as torch.min(t, dim); the gradient goes to that index.
std::tuple<Tensor, Tensor> min(const Tensor& a, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& a, int64_t dim, bool keepdim = false);   // int64 positions of the first minimum
// torch.amax / amin along dim: the values only; the gradient is split evenly among the tied extremes of a slice.
// Throws for a dim out of range or of size 0 (as max does).
Tensor amax(const Tensor& a, int64_t dim, bool keepdim = false);
Tensor amin(const Tensor& a, int64_t dim, bool keepdim = false);
// torch.where: a where cond is true, else b. cond is bool; cond, a and b broadcast together; a and b share a dtype.
// Differentiable wrt a and b. Throws for a non-bool cond, a dtype mismatch or shapes that do not broadcast.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// torch.gather: out[i][j][k] = t[index[i][j][k]][j][k] (dim 0; likewise for other dims); out has index's shape.
// index is int64 with t's number of dims, index.size(d) <= t.size(d) for d != dim, values in [0, t.size(dim)).
// The gradient scatter-adds dout back (repeated indices add up).
Tensor gather(const Tensor& t, int64_t dim, const Tensor& index);
// torch.sort along dim: (values, int64 indices), ascending unless descending; ties keep their original order
// (stable), NaN counts as larger than any number. Values are differentiable (gather(t, dim, indices)).
std::tuple<Tensor, Tensor> sort(const Tensor& t, int64_t dim = -1, bool descending = false);
// torch.topk: the k largest (or smallest, largest = false) along dim, as (values, int64 indices), best first; ties
// keep their original order. sorted = false returns the same order (PyTorch leaves it unspecified). Throws unless
// 0 <= k <= t.size(dim). Values are differentiable.
std::tuple<Tensor, Tensor> topk(const Tensor& t, int64_t k, int64_t dim = -1, bool largest = true, bool sorted = true);

// ---- matmul (matmul.cpp) -------------------------------------------------------------------------------------
// torch.matmul: 1-D @ 1-D is a dot product; 2-D @ 2-D a matrix product; 1-D operands get a dim of 1 prepended
// (left) or appended (right) and removed afterwards; batch dims (all but the last two) broadcast:
//   (T, T) @ (B, T, C) -> (B, T, C). Computed with OpenBLAS gemm; transposed views are passed as flags, not copied.
Tensor matmul(const Tensor& a, const Tensor& b);
// torch::nn::functional::linear (linear.cpp): x (..., in) @ weight (out, in)^T + bias (out) -> (..., out); bias may
// be undefined (none). Differentiable wrt all three; one op (LinearBackward), the bias added inside the product.
// Throws for a 0-d x, a weight that is not 2-D, x's last dim != in, a bias that is not (out), mixed dtypes, or
// integer tensors.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
// relu(linear(x, weight, bias)) as one op (LinearReluBackward), the ReLU applied in place: the product before it is
// never a tensor of its own. Sequential runs a Linear followed by a ReLU with it. Same checks as linear.
Tensor linear_relu(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// ---- softmax and losses (softmax.cpp) ------------------------------------------------------------------------
// exp(x - max) / sum(exp(x - max)) along dim. A slice that is entirely -inf gives NaN, as in PyTorch.
Tensor softmax(const Tensor& x, int64_t dim);
// x - max - log(sum(exp(x - max))) along dim.
Tensor log_softmax(const Tensor& x, int64_t dim);
// Mean over N of -log softmax(logits)[n, targets[n]]; logits (N, C) float, targets (N) int64 in [0, C): one fused
// kernel. Other layouts ((N, C, d1, ...), (B, T, V)) go to the options form below with its defaults.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets);

// ---- losses with PyTorch's options (loss.cpp) -----------------------------------------------------------------
// Targets are int64 class indices, read in one of two layouts:
//   PyTorch's: input (N, C) with targets (N), or (N, C, d1, ...) with (N, d1, ...): the class dim is 1;
//   the GPT's: logits (B, T, V) (any rank >= 3) with targets (B, T): the class dim is last; taken only when
//   PyTorch's reading does not fit, so when both fit (T == V) the class dim is 1, as in PyTorch.
// A target equal to ignore_index adds nothing and is not counted; any other must be in [0, C).
// reduction: "mean" (sum over targets / count of targets not ignored; NaN when all are), "sum", or "none" (one
// loss per target, the targets' shape, 0 where ignored). Errors: non-floating input, non-int64 targets, a shape
// that fits neither layout, an empty class dim, a target out of range, an unknown reduction.
struct CrossEntropyFuncOptions {
    int64_t ignore_index = -100;
    double label_smoothing = 0;  // in [0, 1]: the target is (1 - s) one-hot + s / C uniform
    std::string reduction = "mean";
};
// torch::nn::functional::cross_entropy: -sum_c w_c log_softmax(logits)_c per target, w the smoothed one-hot.
//   ag::cross_entropy(logits, targets, {.ignore_index = 0, .label_smoothing = 0.1, .reduction = "sum"})
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, const CrossEntropyFuncOptions& options);
// torch::nn::functional::nll_loss: -log_probs[target] per target, the layouts and reductions above.
Tensor nll_loss(const Tensor& log_probs, const Tensor& targets, int64_t ignore_index = -100,
                const std::string& reduction = "mean");
// torch::nn::functional::binary_cross_entropy_with_logits, stable for any logit:
//   (1 - y) x + (1 + (pos_weight - 1) y) log(1 + exp(-x)), differentiable wrt logits x and targets y.
// targets: the logits' shape and dtype; pos_weight (e.g. (C), one per class) broadcasts to the logits' shape.
// reduction "mean" (over all elements), "sum" or "none". Errors: non-floating logits, a dtype or shape mismatch.
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets,
                                        const std::string& reduction = "mean",
                                        const std::optional<Tensor>& pos_weight = std::nullopt);

// ---- normalisation (layer_norm.cpp) --------------------------------------------------------------------------
// torch.nn.functional.layer_norm over the last dim C: each row (x - mean) / sqrt(var + eps) * weight + bias, with
// the biased variance; weight and bias are (C), or undefined for none. Differentiable wrt x, weight and bias.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-5);

// ---- attention (self_attention.cpp) --------------------------------------------------------------------------
// Self-attention of n_head heads in one fused op, on their packed projection (the lecture's Head and
// MultiHeadAttention, all heads at once). kqv (B, T, 3 C), C = n_head hs, holds along its last dim the keys of every
// head, then their queries, then their values: [k_0 .. k_{n-1} | q_0 .. q_{n-1} | v_0 .. v_{n-1}], each (B, T, hs).
//   out (B, T, C): columns [h hs, (h + 1) hs) hold head h's  softmax(q_h @ k_h^T * scale, masked) @ v_h.
// causal: position t attends to positions s <= t, as softmax(wei.masked_fill(tril == 0, -inf)) in the notebook;
// otherwise to every position. Equal to that spelling up to rounding (tested); the (T, T) weights are built one
// block of 64 query rows at a time, only the lower triangle when causal, and kept only when T fits one block:
// beyond that, backward recomputes them from kqv and a saved log-sum-exp per row. kqv's gradient is one buffer.
// Throws unless kqv is (B, T, 3 C) with C a positive multiple of n_head.
// dropout > 0 (train mode): each attention weight is zeroed with that probability and the rest scaled by
// 1 / (1 - dropout), the mask drawn from gen (the default generator) as the lecture's heads draw theirs, one head's
// (B, T, T) after another: with manual_seed, the same weights as PyTorch drops.
Tensor self_attention(const Tensor& kqv, int64_t n_head, bool causal, double scale, double dropout = 0,
                      Generator* gen = nullptr);
// The attention weights of that op, (B, n_head, T, T) (0 where masked), computed by the same kernel; no graph.
Tensor self_attention_weights(const Tensor& kqv, int64_t n_head, bool causal, double scale);

// ---- shape and indexing (shape_ops.cpp, index_ops.cpp) ---------------------------------------------------------
// reshape: same data in a new shape (a view when the strides allow, else a copy); one size may be -1 (inferred).
Tensor reshape(const Tensor& a, const Shape& shape);
// view: like reshape but never copies; throws if the strides do not allow it.
Tensor view(const Tensor& a, const Shape& shape);
Tensor transpose(const Tensor& a, int64_t d0, int64_t d1);
Tensor permute(const Tensor& a, const Shape& dims);
Tensor unsqueeze(const Tensor& a, int64_t dim);
Tensor squeeze(const Tensor& a, int64_t dim);  // removes dim if its size is 1, else returns a unchanged
// A view of a with size-1 (or missing leading) dims broadcast to `shape`, without copying.
Tensor expand(const Tensor& a, const Shape& shape);
// Joins tensors of equal shape (but along dim) end to end along dim.
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim);
// stack: tensors of one shape S joined along a new dim (negative counts from the end of S + 1): out has n at dim.
// Throws for no tensors, unequal shapes or dtypes, or dim out of range.
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
// split: views of t of split_size along dim, the last one smaller; a size-0 dim gives one empty piece.
// Throws for a 0-d t, split_size <= 0 (0 is allowed for an empty dim), or dim out of range.
std::vector<Tensor> split(const Tensor& t, int64_t split_size, int64_t dim = 0);
// chunk: split(t, ceil(size / chunks), dim), so it may give fewer than `chunks` pieces. Throws for chunks <= 0.
std::vector<Tensor> chunk(const Tensor& t, int64_t chunks, int64_t dim = 0);
// t: a 2-D tensor transposed (a view); 0-D and 1-D returned as is; throws for more than 2 dims.
Tensor t(const Tensor& a);
// Rows of a along dim picked by a 1-D int64 index: out.size(dim) == index.numel().
Tensor index_select(const Tensor& a, int64_t dim, const Tensor& index);
// weight (V, C) looked up by int64 ids of any shape: out has shape ids.shape + [C].
Tensor embedding(const Tensor& weight, const Tensor& ids);

}  // namespace ag
