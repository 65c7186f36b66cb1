// layer_norm: normalise each row over the last dim, then scale and shift; one fused kernel each way
// (kernels_layer_norm.cpp), the backward from the saved mean and 1/std.
#include <cmath>
#include <stdexcept>
#include <string>

#include "engine/autograd.h"
#include "engine/kernels.h"
#include "engine/ops.h"

namespace ag {

namespace {

void check_affine(const Tensor& p, const Tensor& x, const char* what) {
    if (!p.defined()) return;
    if (p.dim() != 1 || p.size(0) != x.size(-1))
        throw std::invalid_argument(std::string("layer_norm: ") + what + " must be (C) with C = " +
                                    std::to_string(x.size(-1)) + ", the input's last dim; got shape " +
                                    shape_str(p.shape()));
    if (p.dtype() != x.dtype())
        throw std::invalid_argument(std::string("layer_norm: ") + what + " must have the input's dtype " +
                                    dtype_name(x.dtype()) + "; got " + dtype_name(p.dtype()));
}

// The data pointer of a contiguous tensor, or null when it is undefined.
template <typename Scalar>
const Scalar* data_or_null(const Tensor& t) { return t.defined() ? t.data<Scalar>() : nullptr; }

}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
    if (x.dim() == 0) throw std::invalid_argument("layer_norm: needs at least one dim to normalise; got shape []");
    if (!(eps >= 0) || !std::isfinite(eps))
        throw std::invalid_argument("layer_norm: eps must be non-negative and finite; got " + number_str(eps));
    check_affine(weight, x, "weight");
    check_affine(bias, x, "bias");
    const int64_t C = x.size(-1), rows = numel_of(x.shape(), 0, x.dim() - 1);
    const Tensor in = x.detach().contiguous();
    const Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
    const Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
    Tensor out = empty(x.shape(), x.dtype());
    const Tensor mean = empty({rows}, DType::Float64), rstd = empty({rows}, DType::Float64);  // in double (kernels.h)
    dispatch_floating(x.dtype(), "layer_norm", [&]<typename Scalar>() {
        kernels::layer_norm_forward<Scalar>(in.data<Scalar>(), data_or_null<Scalar>(w), data_or_null<Scalar>(b),
                                            out.data<Scalar>(), mean.data<double>(), rstd.data<double>(), rows, C, eps);
    });
    if (!needs_grad({&x, &weight, &bias})) return out;
    set_grad_fn(out, "LayerNormBackward", {&x, &weight, &bias}, /*saved=*/{in, w, mean, rstd},
                [x, weight, bias, in, w, mean, rstd, rows, C](const Tensor& d) {
        // dx = rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)), dxhat = dout * w
        // dw = sum over rows of dout * xhat ; db = sum over rows of dout        (kernels_layer_norm.cpp)
        const Tensor dout = d.contiguous();
        const Tensor dx = x.requires_grad() ? empty(x.shape(), x.dtype()) : Tensor();
        const Tensor dw = weight.defined() && weight.requires_grad() ? empty({C}, x.dtype()) : Tensor();
        const Tensor db = bias.defined() && bias.requires_grad() ? empty({C}, x.dtype()) : Tensor();
        dispatch_floating(x.dtype(), "layer_norm", [&]<typename Scalar>() {
            auto out_or_null = [](const Tensor& t) { return t.defined() ? t.data<Scalar>() : nullptr; };
            kernels::layer_norm_backward<Scalar>(dout.data<Scalar>(), in.data<Scalar>(), mean.data<double>(),
                                                 rstd.data<double>(), data_or_null<Scalar>(w), out_or_null(dx),
                                                 out_or_null(dw), out_or_null(db), rows, C);
        });
        if (dx.defined()) accumulate_grad(x, dx);
        if (dw.defined()) accumulate_grad(weight, dw);
        if (db.defined()) accumulate_grad(bias, db);
    });
    return out;
}

}  // namespace ag
