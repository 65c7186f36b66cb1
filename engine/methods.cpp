// Tensor's method spellings (x.sum(-1, true), x.masked_fill(..)), each the free function of the same name.
#include "engine/ops.h"

namespace ag {

Tensor Tensor::reshape(const Shape& s) const { return ag::reshape(*this, s); }
Tensor Tensor::view(const Shape& s) const { return ag::view(*this, s); }
Tensor Tensor::transpose(int64_t d0, int64_t d1) const { return ag::transpose(*this, d0, d1); }
Tensor Tensor::t() const { return ag::t(*this); }
Tensor Tensor::permute(const Shape& dims) const { return ag::permute(*this, dims); }
Tensor Tensor::unsqueeze(int64_t d) const { return ag::unsqueeze(*this, d); }
Tensor Tensor::squeeze(int64_t d) const { return ag::squeeze(*this, d); }
Tensor Tensor::expand(const Shape& s) const { return ag::expand(*this, s); }
Tensor Tensor::sum() const { return ag::sum(*this); }
Tensor Tensor::sum(int64_t d, bool keepdim) const { return ag::sum(*this, d, keepdim); }
Tensor Tensor::mean() const { return ag::mean(*this); }
Tensor Tensor::mean(int64_t d, bool keepdim) const { return ag::mean(*this, d, keepdim); }
Tensor Tensor::max() const { return ag::max(*this); }
std::tuple<Tensor, Tensor> Tensor::max(int64_t d, bool keepdim) const { return ag::max(*this, d, keepdim); }
Tensor Tensor::argmax(int64_t d, bool keepdim) const { return ag::argmax(*this, d, keepdim); }
Tensor Tensor::min() const { return ag::min(*this); }
std::tuple<Tensor, Tensor> Tensor::min(int64_t d, bool keepdim) const { return ag::min(*this, d, keepdim); }
Tensor Tensor::argmin(int64_t d, bool keepdim) const { return ag::argmin(*this, d, keepdim); }
Tensor Tensor::amax(int64_t d, bool keepdim) const { return ag::amax(*this, d, keepdim); }
Tensor Tensor::amin(int64_t d, bool keepdim) const { return ag::amin(*this, d, keepdim); }
Tensor Tensor::exp() const { return ag::exp(*this); }
Tensor Tensor::log() const { return ag::log(*this); }
Tensor Tensor::sqrt() const { return ag::sqrt(*this); }
Tensor Tensor::tanh() const { return ag::tanh(*this); }
Tensor Tensor::relu() const { return ag::relu(*this); }
Tensor Tensor::pow(double e) const { return ag::pow(*this, e); }
Tensor Tensor::softmax(int64_t d) const { return ag::softmax(*this, d); }
Tensor Tensor::log_softmax(int64_t d) const { return ag::log_softmax(*this, d); }
Tensor Tensor::masked_fill(const Tensor& mask, double v) const { return ag::masked_fill(*this, mask, v); }
Tensor Tensor::matmul(const Tensor& other) const { return ag::matmul(*this, other); }

}  // namespace ag
