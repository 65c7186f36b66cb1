#include "layers/container.h"

#include <typeinfo>

#include "layers/activation.h"
#include "layers/linear.h"

namespace ag {

Tensor Sequential::forward(const Tensor& x) const {
    Tensor y = x;
    for (int64_t i = 0; i < size(); ++i) {
        const Layer& layer = (*this)[i];
        const Layer* next = i + 1 < size() ? &(*this)[i + 1] : nullptr;
        // typeid, not dynamic_cast: a subclass may override forward, and then its own forward must run
        if (next && typeid(layer) == typeid(Linear) && typeid(*next) == typeid(ReLU)) {
            y = static_cast<const Linear&>(layer).forward_relu(y);
            ++i;
        } else {
            y = layer(y);
        }
    }
    return y;
}

}  // namespace ag
