#include "engine/tensor.h"

#include <atomic>
#include <ostream>
#include <type_traits>
#include <stdexcept>

#include "engine/autograd.h"
#include "engine/format.h"
#include "engine/kernels.h"
#include "engine/ops.h"

namespace ag {

void Tensor::throw_undefined() {
    throw std::invalid_argument("tensor: this tensor is undefined (e.g. a grad() before any backward)");
}

Tensor empty(const Shape& shape, DType dtype, bool zero) {
    check_shape(shape, "empty");  // non-negative sizes whose counts fit: the products below cannot wrap around
    auto impl = std::make_shared<TensorImpl>();
    impl->shape = shape;
    impl->strides.assign(shape.size(), 0);
    int64_t numel = 1, step = 1;  // row-major strides (a size 0 steps like a size 1), and the element count
    for (size_t d = shape.size(); d-- > 0;) {
        impl->strides[d] = step;
        step *= shape[d] > 0 ? shape[d] : 1;
        numel *= shape[d];
    }
    int64_t nbytes;
    if (__builtin_mul_overflow(numel, static_cast<int64_t>(dtype_size(dtype)), &nbytes))
        nbytes = nbytes_of(shape, dtype_size(dtype));  // throws, naming the shape and the element size
    impl->storage = std::make_shared<Storage>(static_cast<std::size_t>(nbytes), zero);
    impl->dtype = dtype;
    return Tensor(std::move(impl));
}

Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = base.impl().storage;
    impl->shape = std::move(shape);
    impl->strides = std::move(strides);
    impl->contiguous = is_row_major(impl->shape, impl->strides);
    impl->offset = offset;
    impl->dtype = base.dtype();
    impl->no_grad_view = base.impl().no_grad_view || (base.requires_grad() && !grad_mode_enabled());
    return Tensor(std::move(impl));
}

int64_t Tensor::size(int64_t d) const { return shape()[normalize_dim(d, dim(), "size")]; }

bool is_row_major(const Shape& shape, const Shape& strides) {
    for (int64_t size : shape)
        if (size == 0) return true;  // no element is out of place (as in PyTorch)
    int64_t expected = 1;
    for (size_t d = shape.size(); d-- > 0;) {
        if (shape[d] != 1 && strides[d] != expected) return false;
        expected *= shape[d];
    }
    return true;
}

double Tensor::item() const {
    if (numel() != 1)
        throw std::invalid_argument("item: only a tensor with one element converts to a number; got shape " +
                                    shape_str(shape()));
    return dispatch_all(dtype(), [&]<typename Scalar>() { return static_cast<double>(*data<Scalar>()); });
}

namespace {

// into = from's values in into's dtype (the same shape). Float to int64 truncates, as in PyTorch; a NaN, an
// infinity or a value outside int64 has no int64 (the cast would be undefined behaviour) and is refused.
void convert_into(const Tensor& into, const Tensor& from, const char* op) {
    dispatch_all(from.dtype(), [&]<typename From>() {
        dispatch_all(into.dtype(), [&]<typename To>() {
            if constexpr (std::is_same_v<To, int64_t> && std::is_floating_point_v<From>) {
                std::atomic<bool> unrepresentable{false};  // set by any thread of the loop
                kernels::map<To, From>(into, from, [&](From v) {
                    if (v >= From(-9223372036854775808.0) && v < From(9223372036854775808.0))
                        return static_cast<int64_t>(v);
                    unrepresentable.store(true, std::memory_order_relaxed);
                    return int64_t{0};
                });
                if (unrepresentable.load())
                    throw std::invalid_argument(std::string(op) + ": a value is NaN, infinite or outside the range of " +
                                                "torch.int64, so it has no int64 value");
            } else {
                kernels::map<To, From>(into, from, [](From v) { return static_cast<To>(v); });
            }
        });
    });
}

}  // namespace

template <typename Scalar> std::vector<Scalar> Tensor::to_vector() const {
    Tensor dense = empty(shape(), dtype_of<Scalar>());  // row-major copy, converted
    convert_into(dense, *this, "to_vector");
    const Scalar* p = dense.data<Scalar>();
    return std::vector<Scalar>(p, p + numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

// ---- autograd --------------------------------------------------------------------------------------------------------

Tensor& Tensor::requires_grad_(bool on) {
    if (!is_leaf())
        throw std::invalid_argument("requires_grad_: only a leaf can be marked; this tensor was made by '" +
                                    std::string(grad_fn()->name) + "' (use detach() to make a leaf)");
    if (on && !is_floating(dtype()))
        throw std::invalid_argument("requires_grad_: only floating-point tensors can require grad; got " +
                                    dtype_name(dtype()));
    impl().requires_grad = on;
    return *this;
}

Tensor Tensor::grad() const { return impl().grad ? Tensor(impl().grad) : Tensor(); }

void Tensor::zero_grad() {
    if (impl().grad) Tensor(impl().grad).fill_(0.0);
}

Tensor& Tensor::retain_grad() {
    impl().retains_grad = true;
    return *this;
}

void Tensor::backward(const Tensor& grad, bool retain_graph) const { run_backward(*this, grad, retain_graph); }

void Tensor::set_data(const Tensor& values) {
    if (!is_leaf())
        throw std::invalid_argument("set_data: only a leaf's data can be replaced; this tensor was made by '" +
                                    std::string(grad_fn()->name) + "'");
    if (requires_grad() && !is_floating(values.dtype()))
        throw std::invalid_argument("set_data: a tensor that requires grad must hold floating-point values; got " +
                                    dtype_name(values.dtype()));
    // A graph that read this tensor sized its backward by this shape: another shape would be read out of bounds.
    if (values.shape() != shape())
        throw std::invalid_argument("set_data: the new values must have the tensor's shape " + shape_str(shape()) +
                                    "; got " + shape_str(values.shape()));
    TensorImpl& self = impl();
    if (self.grad && values.dtype() != self.dtype) self.grad.reset();
    self.storage = values.impl().storage;
    self.shape = values.shape();
    self.strides = values.strides();
    self.contiguous = values.is_contiguous();
    self.offset = values.offset();
    self.dtype = values.dtype();
}

Tensor Tensor::detach() const {
    Tensor out = make_view(*this, shape(), strides(), offset());
    out.impl().no_grad_view = false;  // a detached tensor may be written: version counters guard what was saved
    return out;
}

Tensor& Tensor::set_name(std::string name) {
    std::unique_ptr<std::string>& slot = impl().name;
    if (slot) *slot = std::move(name);
    else if (!name.empty()) slot = std::make_unique<std::string>(std::move(name));
    return *this;
}

const std::string& Tensor::name() const {
    static const std::string none;
    const std::unique_ptr<std::string>& slot = impl().name;
    return slot ? *slot : none;
}

// ---- copies and conversions -------------------------------------------------------------------------------------------

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::clone() const {
    Tensor out = empty(shape(), dtype());
    dispatch_all(dtype(), [&]<typename Scalar>() { kernels::map<Scalar, Scalar>(out, *this, [](Scalar v) { return v; }); });
    if (needs_grad(*this))
        set_grad_fn(out, "CloneBackward", {this}, /*saved=*/{}, [a = *this](const Tensor& dout) {
            accumulate_grad(a, dout);  // da += dout
        });
    return out;
}

Tensor Tensor::to(DType target) const {
    if (target == dtype()) return *this;
    Tensor out = empty(shape(), target);
    convert_into(out, *this, "to");
    if (needs_grad(*this) && is_floating(target))
        set_grad_fn(out, "ToBackward", {this}, /*saved=*/{}, [a = *this](const Tensor& dout) {
            accumulate_grad(a, dout.to(a.dtype()));  // da += dout, converted back
        });
    return out;
}

// ---- indexing -------------------------------------------------------------------------------------------------------

Tensor Tensor::operator[](int64_t i) const { return select(0, i); }

Tensor Tensor::index(std::initializer_list<TensorIndex> idx) const {
    if (static_cast<int64_t>(idx.size()) > dim())
        throw std::invalid_argument("index: too many indices for a tensor of shape " + shape_str(shape()) + "; got " +
                                    std::to_string(idx.size()));
    Tensor out = *this;
    int64_t d = 0;  // the dim of `out` the next index applies to (an integer index removes one)
    for (const TensorIndex& i : idx) {
        if (i.is_slice) {
            out = out.slice(d, i.slice.start, i.slice.stop, i.slice.step);
            ++d;
        } else {
            out = out.select(d, i.index);
        }
    }
    return out;
}

// ---- printing --------------------------------------------------------------------------------------------------------

std::string Tensor::str() const {
    if (!defined()) return "tensor(undefined)";
    std::vector<std::string> suffixes;
    // PyTorch names the dtype unless it can be read off the values (float32, and int64/bool when not empty).
    if (dtype() == DType::Float64 || (numel() == 0 && dtype() != DType::Float32))
        suffixes.push_back("dtype=" + dtype_name(dtype()));
    if (grad_fn()) suffixes.push_back("grad_fn=<" + std::string(grad_fn()->name) + ">");
    else if (requires_grad()) suffixes.push_back("requires_grad=True");
    const std::vector<int64_t> sizes(shape().begin(), shape().end());
    // Element i in row-major order, read where it lies: only the elements shown are read, nothing is copied.
    auto offset_of = [this](int64_t i) {
        int64_t offset = 0;
        for (int64_t d = dim() - 1; d >= 0; --d) {
            offset += (i % shape()[d]) * strides()[d];
            i /= shape()[d];
        }
        return offset;
    };
    if (dtype() == DType::Int64)
        return format_elements(sizes, [&](int64_t i) { return data<int64_t>()[offset_of(i)]; }, suffixes);
    auto value_at = [&](int64_t i) {
        return dispatch_all(dtype(), [&]<typename S>() { return static_cast<double>(data<S>()[offset_of(i)]); });
    };
    return format_elements(sizes, value_at, is_floating(dtype()) ? ValueKind::Floating : ValueKind::Boolean, suffixes);
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

}  // namespace ag
