// Guards against silent mistakes: a member layer that was never registered (its parameters would never be
// trained), and an optimiser given nothing to train or the same parameter twice.
#include <catch2/catch.hpp>

#include <thread>

#include "engine/engine.h"
#include "layers/layers.h"

using namespace ag;
using Catch::Contains;

namespace {

// The readout is built but never registered: parameters() would miss it.
struct ForgetsReadout : Module {
    Linear hidden{4, 3};
    Linear readout{3, 2, false};
    ForgetsReadout() { register_module("hidden", hidden); }
};

struct RegistersAll : Module {
    Linear hidden{4, 3};
    Linear readout{3, 2, false};
    RegistersAll() {
        register_module("hidden", hidden);
        register_module("readout", readout);
    }
};

// A layer with no parameters, never registered: train()/eval() would not reach it.
struct ForgetsDropout : Module {
    Linear fc{2, 2};
    Dropout drop{0.5};
    ForgetsDropout() { register_module("fc", fc); }
};

// The mistake one level down: Inner forgets its member, Outer registers Inner.
struct Inner : Module {
    Linear a{2, 2};
    Linear b{2, 2};
    Inner() { register_module("a", a); }
};
struct Outer : Module {
    Linear first{2, 2};
    Inner inner;
    Outer() {
        register_module("first", first);
        register_module("inner", inner);
    }
};

// Registers nothing at all: the check has no end of construction to go by.
struct RegistersNothing : Module {
    Linear fc{2, 2};
};

}  // namespace

TEST_CASE("guards: a member Linear never registered is named when its model's parameters are asked for",
          "[guards]") {
    ForgetsReadout model;
    const char* message = "Module: every member module must be registered with register_module; got an "
                          "unregistered ag::Linear (weight [2, 3]) built in the constructor of "
                          "(anonymous namespace)::ForgetsReadout";
    REQUIRE_THROWS_WITH(model.named_parameters(), message);
    REQUIRE_THROWS_WITH(model.parameters(), message);
    REQUIRE_THROWS_WITH(AdamW(model.named_parameters()), message);
    REQUIRE_THROWS_WITH(model.num_parameters(), message);
}

TEST_CASE("guards: a model that registers every member passes, and so do the library's layers", "[guards]") {
    RegistersAll model;
    CHECK(model.named_parameters().size() == 3);
    GPTLanguageModel gpt({.vocab_size = 5, .block_size = 4, .n_embd = 4, .n_head = 2, .n_layer = 2, .dropout = 0.1});
    CHECK_NOTHROW(AdamW(gpt.named_parameters()));
    MultiHeadAttention mha(4, 2, 2);
    CHECK(mha.parameters().size() == 2 * 3 + 2);
}

TEST_CASE("guards: an unregistered member without parameters is caught too (train and eval would miss it)",
          "[guards]") {
    ForgetsDropout model;
    REQUIRE_THROWS_WITH(model.named_parameters(),
                        Contains("got an unregistered ag::Dropout (no parameters, but train()/eval() would miss it)"));
}

TEST_CASE("guards: a member forgotten inside a registered child is caught when the parent registers it",
          "[guards]") {
    REQUIRE_THROWS_WITH(Outer(), Contains("unregistered ag::Linear (weight [2, 2], bias [2]) built in the "
                                          "constructor of (anonymous namespace)::Inner"));
}

TEST_CASE("guards: modules built one after another are not taken for each other's members", "[guards]") {
    Sequential net;  // filled after other modules were built: a list marks its members as built at once
    Linear other(2, 3);
    net.append<Linear>(3, 3);
    net.append<ReLU>();
    CHECK(net.named_parameters().size() == 2);
    ReLU relu;
    Linear after(3, 1);
    CHECK(relu.parameters().empty());
    CHECK(after.parameters().size() == 2);
}

TEST_CASE("guards: modules built on another thread meanwhile are not taken for members", "[guards]") {
    RegistersAll model;
    std::thread([] { Linear elsewhere(1, 1); }).join();
    CHECK(model.parameters().size() == 3);
    std::vector<std::unique_ptr<Linear>> kept;
    std::thread builder([&kept] { kept.push_back(std::make_unique<Linear>(2, 2)); });
    builder.join();
    CHECK(kept.front()->parameters().size() == 2);
}

TEST_CASE("guards: a module that registers nothing escapes the member check; an optimiser refuses its empty list",
          "[guards][optim]") {
    RegistersNothing model;  // the documented limit: no register call marks where its members end
    CHECK(model.parameters().empty());
    REQUIRE_THROWS_WITH(AdamW(model.named_parameters()), Catch::StartsWith("AdamW: optimizer got an empty parameter "
                                                                           "list; got 0 parameters"));
}

TEST_CASE("guards: SGD and AdamW refuse an empty parameter list", "[guards][optim]") {
    REQUIRE_THROWS_WITH(SGD(NamedTensors{}, 0.1), Catch::StartsWith("SGD: optimizer got an empty parameter list"));
    REQUIRE_THROWS_WITH(AdamW(NamedTensors{}), Catch::StartsWith("AdamW: optimizer got an empty parameter list"));
    REQUIRE_THROWS_AS(AdamW(NamedTensors{}), std::invalid_argument);
}

TEST_CASE("guards: SGD and AdamW refuse the same parameter listed twice, under one name or two", "[guards][optim]") {
    RegistersAll model;
    NamedTensors twice = model.named_parameters();
    twice.push_back(twice.front());
    REQUIRE_THROWS_WITH(SGD(twice, 0.1), "SGD: a parameter must appear only once; got 'hidden.weight' twice");
    NamedTensors renamed = model.named_parameters();
    renamed.emplace_back("alias", model.readout.weight);
    REQUIRE_THROWS_WITH(AdamW(renamed),
                        "AdamW: a parameter must appear only once; got 'readout.weight' again as 'alias'");
    NamedTensors two_models = model.named_parameters();
    for (auto& named : model.named_parameters()) two_models.emplace_back("copy." + named.first, named.second);
    REQUIRE_THROWS_WITH(SGD(two_models, 0.1, 0.9), Contains("must appear only once"));
}
