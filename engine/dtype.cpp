#include "engine/dtype.h"

#include <sstream>

namespace ag {

void throw_not_representable(double value, DType t, const char* op) {
    std::ostringstream text;
    text << value;  // as Python prints it: nan, inf, 1e+300
    throw std::invalid_argument(std::string(op) + ": value " + text.str() + " cannot be converted to " +
                                dtype_name(t) + " without overflow");
}

}  // namespace ag
