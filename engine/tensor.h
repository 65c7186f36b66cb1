// Tensor: a cheap, shared handle to an N-dimensional, strided view of a Storage, plus its autograd state.
//
// Glossary used across the engine (as in the notebooks):
//   B batch, T time (sequence length), C channels, V vocabulary, head_size the width of one attention head.
//   A shape is written [B, T, C]; strides are in elements; row-major means the last dim is contiguous.
//
// Copying a Tensor copies the handle, not the data: `Tensor y = x;` makes y and x the same tensor.
// Views (reshape, transpose, slicing, select) share the storage of their base tensor.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/dtype.h"
#include "engine/shape.h"
#include "engine/storage.h"

namespace ag {

class Generator;
struct Node;

// Everything a tensor is; Tensor is a shared_ptr to this.
struct TensorImpl {
    std::shared_ptr<Storage> storage;
    Shape shape;
    Shape strides;        // in elements
    int64_t offset = 0;   // in elements, from the start of storage
    DType dtype = DType::Float32;
    bool contiguous = true;  // row-major over shape (is_contiguous); kept by whoever sets shape and strides

    bool requires_grad = false;         // set on leaves by the user; true on every result of a tracked op
    bool retains_grad = false;          // keep .grad on a non-leaf after backward (see Tensor::retain_grad)
    bool no_grad_view = false;          // a view of a tensor that requires grad, made under NoGradGuard: no
                                        // in-place writes into it once grad mode is back (as in PyTorch)
    std::shared_ptr<TensorImpl> grad;   // the accumulated gradient, same shape and dtype; null until backward
    std::shared_ptr<TensorImpl> incoming_grad;  // a non-leaf's gradient within one backward pass, then cleared
    std::shared_ptr<Node> grad_fn;      // the op that produced this tensor; null for leaves
    std::unique_ptr<std::string> name;  // optional label for printing and graph dumps; null until set_name
};

// One entry of Tensor::index: an integer picks one position (and drops the dim), a Slice keeps a range.
struct Slice {
    int64_t start = 0;
    int64_t stop = INT64_MAX;  // clamped to the dim's size, like Python's x[start:]
    int64_t step = 1;
};
struct TensorIndex {
    TensorIndex(int64_t i) : is_slice(false), index(i) {}  // NOLINT: implicit, so index({b, Slice{0, t + 1}}) reads well
    TensorIndex(int i) : TensorIndex(static_cast<int64_t>(i)) {}  // NOLINT
    TensorIndex(Slice s) : is_slice(true), slice(s) {}  // NOLINT
    bool is_slice;
    int64_t index = 0;
    Slice slice;
};

class Tensor {
public:
    Tensor() = default;  // an undefined tensor (defined() is false), e.g. grad() before backward
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

    // ---- what it is
    bool defined() const { return impl_ != nullptr; }
    const Shape& shape() const { return impl().shape; }
    const Shape& strides() const { return impl().strides; }
    int64_t dim() const { return static_cast<int64_t>(impl().shape.size()); }
    int64_t size(int64_t d) const;  // negative d counts from the end
    int64_t numel() const {  // the shape was checked when the tensor was made: its product cannot overflow
        int64_t n = 1;
        for (int64_t size : impl().shape) n *= size;
        return n;
    }
    int64_t offset() const { return impl().offset; }
    DType dtype() const { return impl().dtype; }
    bool is_contiguous() const { return impl().contiguous; }

    // Pointer to element [0, 0, ...]; throws if T does not match the dtype.
    template <typename Scalar> Scalar* data() const;
    // The value of a one-element tensor as a double; throws otherwise.
    double item() const;
    // All elements in row-major order, converted to T.
    template <typename Scalar> std::vector<Scalar> to_vector() const;

    // ---- autograd
    bool requires_grad() const { return impl().requires_grad; }
    // Marks a leaf as a parameter/input whose gradient backward() should compute. Throws on a non-leaf.
    Tensor& requires_grad_(bool on = true);
    bool is_leaf() const { return impl().grad_fn == nullptr; }
    // The gradient accumulated by backward(); undefined until then (and on non-leaves unless retain_grad()).
    Tensor grad() const;
    // Sets the accumulated gradient to zeros (keeping its buffer), so the next backward starts fresh.
    void zero_grad();
    // Also keep this non-leaf's gradient after backward(), e.g. to inspect d loss / d wei.
    Tensor& retain_grad();
    // Reverse-mode differentiation from this tensor. With no `grad`, the tensor must have one element (a loss)
    // and the seed is 1; otherwise `grad` has this tensor's shape. Gradients accumulate (+=) into the .grad of
    // every leaf that requires them. The graph is freed afterwards unless retain_graph is true.
    void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;
    // The same data, cut from the graph: no grad_fn, requires_grad false.
    Tensor detach() const;
    const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
    Tensor& set_name(std::string name);
    const std::string& name() const;  // "" when no name was set

    // ---- copies and conversions
    Tensor contiguous() const;  // itself if already contiguous, else a row-major copy (differentiable)
    Tensor clone() const;       // always a fresh row-major copy (differentiable)
    // A converted copy (itself if already of that dtype); float <-> float is differentiable. Float to int64
    // truncates, and throws for NaN, infinities and values outside int64 (which have no int64 value).
    Tensor to(DType dtype) const;

    // ---- indexing (views, differentiable)
    Tensor operator[](int64_t i) const;                           // select(0, i), negative i from the end
    Tensor index(std::initializer_list<TensorIndex> idx) const;   // x.index({b, Slice{0, t + 1}}) is x[b, :t+1]
    Tensor select(int64_t dim, int64_t i) const;
    Tensor slice(int64_t dim, int64_t start, int64_t stop, int64_t step = 1) const;

    // ---- writing into a tensor (no autograd; refused on tensors that require grad unless under NoGradGuard)
    // `x = y` rebinds the handle; `x[b][t] = y` (assigning to a temporary view) copies y's values into it,
    // broadcasting y to the view's shape, as in PyTorch's C++ API.
    Tensor& operator=(const Tensor& other) & = default;
    Tensor& operator=(Tensor&& other) & = default;
    Tensor(const Tensor&) = default;
    Tensor(Tensor&&) = default;
    ~Tensor() = default;
    Tensor& operator=(const Tensor& src) &&;
    Tensor& operator=(double value) &&;
    // (inplace.cpp) Refused, too: a destination with a stride-0 dim (an expand()ed view). A source that overlaps the
    // destination in another layout (x.copy_(x.t())) is read as it was before the write.
    Tensor& copy_(const Tensor& src);  // copies src (broadcast to this shape, same dtype) into this tensor
    Tensor& fill_(double value);       // value must fit the dtype (no NaN into int64, no 1e300 into float32)
    // Fills a floating tensor with N(mean, std_dev^2) draws, in row-major order as torch's normal_ on a contiguous
    // tensor draws them (from gen, or the default generator): after manual_seed, PyTorch's values for float32.
    Tensor& normal_(double mean = 0, double std_dev = 1, Generator* gen = nullptr);
    // (inplace_random.cpp) torch's uniform_ (in [lo, hi), throws if lo > hi) and bernoulli_ (1 with probability p,
    // else 0; throws unless 0 <= p <= 1) on a float32 or float64 tensor, drawn as torch draws them; int tensors throw.
    Tensor& uniform_(double lo = 0, double hi = 1, Generator* gen = nullptr);
    Tensor& bernoulli_(double p, Generator* gen = nullptr);

    // ---- in-place arithmetic (inplace_arith.cpp): this = this (op) other, returning this tensor.
    // `other` broadcasts to this tensor's shape (never the other way: the result keeps this shape) and has this
    // tensor's dtype (no promotion, as for every binary op); a number acts as a 0-d tensor of this dtype. float32,
    // float64 and int64 (for which a number must be a whole one, and /= is refused: true division gives a float).
    // As the writes above, these are not recorded in the graph: on a tensor that requires grad (a leaf or an op's
    // result) they throw unless under NoGradGuard; write into a clone() instead. They bump the version, so a graph
    // that saved the old value refuses to run backward.
    Tensor& operator+=(const Tensor& other);  // add_(other)
    Tensor& operator+=(double other);
    Tensor& operator-=(const Tensor& other);  // add_(other, -1), torch's sub_
    Tensor& operator-=(double other);
    Tensor& operator*=(const Tensor& other);  // mul_(other)
    Tensor& operator*=(double other);
    Tensor& operator/=(const Tensor& other);  // torch's div_
    Tensor& operator/=(double other);
    Tensor& add_(const Tensor& other, double alpha = 1);  // this += alpha * other (inplace_arith.cpp: roundings)
    Tensor& add_(double other, double alpha = 1);
    Tensor& mul_(const Tensor& other);
    Tensor& mul_(double other);

    // How many in-place writes this tensor's buffer has had (PyTorch's x._version; views share the count). An op
    // that saved the tensor for backward records it, and backward throws if it changed.
    uint64_t version() const { return impl().storage->version(); }
    // Counts a write made through data<T>() (copy_, fill_, add_ and the optimisers count their own).
    void bump_version() const { impl().storage->bump_version(); }
    // Makes this leaf hold `values`' buffer and dtype (of the same shape), keeping its identity: every handle to it,
    // its name and requires_grad (PyTorch's x.set_data). Its .grad is dropped when the dtype changes. Module::to
    // converts parameters this way, so an optimiser's handles still reach them. A graph built before the change
    // refuses to run backward into it (the gradient's dtype would not match).
    void set_data(const Tensor& values);

    // ---- method forms of common ops (see ops.h for what each does)
    Tensor reshape(const Shape& shape) const;
    Tensor view(const Shape& shape) const;
    Tensor transpose(int64_t d0, int64_t d1) const;
    Tensor t() const;  // ag::t: 2-D transpose
    Tensor permute(const Shape& dims) const;
    Tensor unsqueeze(int64_t dim) const;
    Tensor squeeze(int64_t dim) const;
    Tensor expand(const Shape& shape) const;
    Tensor sum() const;
    Tensor sum(int64_t dim, bool keepdim = false) const;
    Tensor mean() const;
    Tensor mean(int64_t dim, bool keepdim = false) const;
    Tensor max() const;
    std::tuple<Tensor, Tensor> max(int64_t dim, bool keepdim = false) const;  // (values, indices)
    Tensor argmax(int64_t dim, bool keepdim = false) const;
    Tensor min() const;
    std::tuple<Tensor, Tensor> min(int64_t dim, bool keepdim = false) const;  // (values, indices)
    Tensor argmin(int64_t dim, bool keepdim = false) const;
    Tensor amax(int64_t dim, bool keepdim = false) const;
    Tensor amin(int64_t dim, bool keepdim = false) const;
    Tensor exp() const;
    Tensor log() const;
    Tensor sqrt() const;
    Tensor tanh() const;
    Tensor relu() const;
    Tensor pow(double exponent) const;
    Tensor softmax(int64_t dim) const;
    Tensor log_softmax(int64_t dim) const;
    Tensor masked_fill(const Tensor& mask, double value) const;
    Tensor matmul(const Tensor& other) const;

    // PyTorch's repr: "tensor([[ 0.1808, -0.0700], ...])".
    std::string str() const;

    TensorImpl& impl() const {  // throws on an undefined tensor
        if (!impl_) throw_undefined();
        return *impl_;
    }
    const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

private:
    [[noreturn]] static void throw_undefined();
    std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Tensors with names: a model's parameters ("key.weight"), an optimiser's state, a checkpoint's contents.
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// A fresh tensor with row-major strides; zero = true fills it with zeros, otherwise its contents are unspecified.
Tensor empty(const Shape& shape, DType dtype = DType::Float32, bool zero = false);

// True when (shape, strides) lay the elements out in row-major order, as empty() makes them (size-1 dims may have
// any stride; a tensor with no element counts as contiguous, as in PyTorch).
bool is_row_major(const Shape& shape, const Shape& strides);

// A view of `base`'s storage with the given geometry (no checks; used by the view ops). Made under NoGradGuard from
// a tensor that requires grad, it is marked as such a view (TensorImpl::no_grad_view).
Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset);

template <typename Scalar> Scalar* Tensor::data() const {
    if (dtype_of<Scalar>() != dtype())
        throw std::invalid_argument("data: the tensor holds " + dtype_name(dtype()) + "; got a request for " +
                                    dtype_name(dtype_of<Scalar>()));
    return static_cast<Scalar*>(impl().storage->data()) + impl().offset;
}

}  // namespace ag
