// Internal: the checks every in-place write shares (inplace.cpp says what they refuse and why). Used by copy_ and
// fill_ (inplace.cpp), the arithmetic methods (inplace_arith.cpp) and the random fills (inplace_random.cpp).
#pragma once
#include "engine/tensor.h"

namespace ag::inplace {

// Throws unless dst may be written into here: it does not require grad (outside NoGradGuard), is not a no-grad view
// of one, and has no two elements on one memory location (a stride-0 dim of an expand()ed view).
void check_destination(const Tensor& dst, const char* op);
// Throws unless src broadcasts to dst's shape (the result of an in-place op keeps dst's shape).
void check_broadcasts_to(const Tensor& src, const Tensor& dst, const char* op);
// What an in-place write into dst reads for src: src itself, or a snapshot when it shares dst's memory in another
// layout (so x.copy_(x.t()) reads the old values).
Tensor readable_source(const Tensor& dst, const Tensor& src);

}  // namespace ag::inplace
