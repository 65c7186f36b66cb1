// Catch2 (v2) support for checking gradients in your own tests:
//
//   #include <catch2/catch.hpp>
//   #include "testing/gradcheck_matcher.h"
//   auto f = [](const std::vector<ag::Tensor>& in) { return my_op(in[0], in[1]); };
//   REQUIRE_THAT((std::vector<ag::Tensor>{a, b}), ag::PassesGradcheck(f));
//
// On failure Catch prints the inputs' shapes, "fails gradcheck" and gradcheck's report (80 columns wide, so Catch
// never wraps it): which input and element (as an index into its shape), the analytic (backward) and numeric
// (finite-difference) values, and the tolerance they missed. Inputs that require grad must be float64 leaves (see
// engine/gradcheck.h).
#pragma once
#include <catch2/catch.hpp>

#include <functional>
#include <string>
#include <vector>

#include "engine/gradcheck.h"
#include "engine/shape.h"

namespace ag {

class PassesGradcheck : public Catch::MatcherBase<std::vector<Tensor>> {
public:
    explicit PassesGradcheck(std::function<Tensor(const std::vector<Tensor>&)> fn, GradcheckOptions options = {})
        : fn_(std::move(fn)), options_(options) {}

    bool match(const std::vector<Tensor>& inputs) const override {
        result_ = gradcheck(fn_, inputs, options_);
        return result_.passed;
    }
    std::string describe() const override {
        return result_.passed ? "passes gradcheck" : "fails gradcheck\n" + result_.report;
    }

private:
    std::function<Tensor(const std::vector<Tensor>&)> fn_;
    GradcheckOptions options_;
    mutable GradcheckResult result_;
};

}  // namespace ag

// Catch shows a list of inputs by their shapes and dtypes, not their values.
namespace Catch {
template <>
struct StringMaker<std::vector<ag::Tensor>> {
    static std::string convert(const std::vector<ag::Tensor>& inputs) {
        std::string s = "inputs";
        for (const ag::Tensor& t : inputs) s += " " + ag::shape_str(t.shape()) + ":" + ag::dtype_name(t.dtype());
        return s;
    }
};
}  // namespace Catch
