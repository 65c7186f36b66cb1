// The lecture's GPT (layers/gpt.h) and the layers it adds (containers, LayerNorm, ReLU, GELU, Dropout): PyTorch's
// parameter names, its initial weights bit for bit, its losses, gradients, logits and generated tokens for the
// same seed (tests/fixtures/make_gpt_fixtures.py runs the lecture's model), and gradcheck in float64.
#include <catch2/catch.hpp>

#include <bit>
#include <cstring>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "layers/layers.h"
#include "io/checkpoint.h"
#include "tests/check_close.h"
#include "tests/checkpoint_helpers.h"
#include "tests/gradcheck_helpers.h"

namespace {

using namespace ag;
using Catch::Contains;

struct ParamFixture {
    const char* name;
    uint64_t fnv1a;              // of the float32 bits, row-major
    std::vector<double> first;  // the first three values
};
struct GradFixture {
    const char* name;
    std::vector<double> values;
};
struct GPTCase {
    uint64_t seed;
    GPTConfig config;
    int64_t batch, steps, num_parameters;
    std::vector<ParamFixture> params;
    std::vector<double> losses;       // per AdamW step, training mode
    std::vector<GradFixture> grads;   // at the first step
    double eval_loss;                 // after the steps, eval mode
    std::vector<double> eval_logits;  // logits[0, -1] in eval mode
    std::vector<int64_t> generated;   // generate(zeros(1, 1), 20)[0], training mode
};

#include "tests/fixtures/gpt_fixtures.inc"

uint64_t fnv1a(const Tensor& t) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (float v : t.to_vector<float>()) {
        const uint32_t bits = std::bit_cast<uint32_t>(v);
        for (int b = 0; b < 4; ++b) h = (h ^ ((bits >> (8 * b)) & 0xFF)) * 0x100000001B3ull;
    }
    return h;
}

// gradcheck of layer(x) wrt x and every parameter, the layer in float64.
void check_layer(Layer& layer, const Tensor& x) {
    layer.to(DType::Float64);
    std::vector<Tensor> inputs{x};
    for (const Tensor& p : layer.parameters()) inputs.push_back(p);
    check([&layer](const std::vector<Tensor>& in) { return layer(in[0]); }, inputs);
}

}  // namespace

TEST_CASE("GPT: PyTorch's parameter names, count and initial weights bit for bit", "[gpt]") {
    for (const GPTCase* c : {&gpt_fixtures::dropout, &gpt_fixtures::no_dropout, &gpt_fixtures::odd_width}) {
        INFO("seed " << c->seed << ", n_embd " << c->config.n_embd);
        manual_seed(c->seed);
        GPTLanguageModel model(c->config);
        CHECK(model.num_parameters() == c->num_parameters);
        const auto named = model.named_parameters();
        REQUIRE(named.size() == c->params.size());
        for (size_t i = 0; i < named.size(); ++i) {
            INFO(named[i].first);
            CHECK(named[i].first == c->params[i].name);
            CHECK(named[i].second.name() == c->params[i].name);
            const std::vector<float> v = named[i].second.to_vector<float>();
            for (size_t j = 0; j < 3; ++j) CHECK(v[j] == static_cast<float>(c->params[i].first[j]));
            CHECK(fnv1a(named[i].second) == c->params[i].fnv1a);
        }
    }
}

TEST_CASE("GPT: the lecture's model on tiny-shakespeare (65 characters) has its 10,788,929 parameters", "[gpt]") {
    const GPTLanguageModel model(GPTConfig{});  // the defaults are the lecture's hyperparameters
    CHECK(model.num_parameters() == 10788929);
    CHECK(model.named_parameters().size() == 2 + 6 * (6 * 3 + 2 + 4 + 4) + 2 + 2);
}

TEST_CASE("GPT: PyTorch's losses over AdamW steps, gradients, eval logits and generated tokens", "[gpt]") {
    for (const GPTCase* c : {&gpt_fixtures::dropout, &gpt_fixtures::no_dropout, &gpt_fixtures::odd_width}) {
        INFO("seed " << c->seed << ", dropout " << c->config.dropout);
        manual_seed(c->seed);
        GPTLanguageModel model(c->config);
        const Tensor xb = randint(0, c->config.vocab_size, {c->batch, c->config.block_size});
        const Tensor yb = randint(0, c->config.vocab_size, {c->batch, c->config.block_size});
        AdamW optimizer(model.named_parameters(), 1e-3);
        std::vector<double> losses;
        for (int64_t step = 0; step < c->steps; ++step) {
            auto [logits, loss] = model.forward(xb, yb);
            optimizer.zero_grad();
            loss.backward();
            if (step == 0)
                for (const GradFixture& g : c->grads) {
                    INFO(g.name);
                    for (const auto& [name, p] : model.named_parameters())
                        if (name == g.name) check_close(p.grad(), g.values, 1e-4, 1e-6);
                }
            optimizer.step();
            losses.push_back(loss.item());
        }
        check_close(from_vector(losses, {c->steps}), c->losses, 1e-5, 0);
        model.eval();
        Tensor eval_logits, eval_loss;
        {
            NoGradGuard no_grad;
            std::tie(eval_logits, eval_loss) = model.forward(xb, yb);
        }
        model.train();
        CHECK(eval_loss.item() == Approx(c->eval_loss).epsilon(1e-5));
        check_close(eval_logits.select(0, 0).select(0, c->config.block_size - 1), c->eval_logits, 1e-4, 1e-5);
        const Tensor out = model.generate(zeros({1, 1}, DType::Int64), 20);
        CHECK(out.select(0, 0).to_vector<int64_t>() == c->generated);
    }
}

TEST_CASE("GPT: a checkpoint PyTorch wrote loads, gives PyTorch's logits, and saves back as the same tensors",
          "[gpt][checkpoint]") {
    checkpoint_test::TempDir dir;
    const std::string theirs = dir.file("pytorch.safetensors"), ours = dir.file("ours.safetensors");
    {
        std::FILE* f = std::fopen(theirs.c_str(), "wb");
        REQUIRE(f);
        std::fwrite(gpt_fixtures::pytorch_checkpoint.data(), 1, gpt_fixtures::pytorch_checkpoint.size(), f);
        std::fclose(f);
    }
    GPTLanguageModel model({7, 6, 8, 2, 2, 0.1});
    load_checkpoint(theirs, model);  // every parameter by its PyTorch name, no other tensor in the file
    model.eval();
    const Tensor logits = model.forward(from_vector(gpt_fixtures::pytorch_idx, {2, 6}));
    check_close(logits, gpt_fixtures::pytorch_logits, 1e-5, 1e-6);
    // What we write holds the same tensors under the same names, byte for byte: PyTorch reads ours as it wrote its.
    save_checkpoint(ours, model);
    const SafetensorsFile a = load_safetensors(theirs), b = load_safetensors(ours);
    REQUIRE(a.tensors.size() == b.tensors.size());
    for (const auto& [name, t] : a.tensors) {
        INFO(name);
        bool found = false;
        for (const auto& [other_name, u] : b.tensors)
            if (other_name == name) {
                found = true;
                CHECK(u.shape() == t.shape());
                CHECK(u.to_vector<float>() == t.to_vector<float>());
            }
        CHECK(found);
    }
}

TEST_CASE("GPT: gradcheck of the loss wrt every parameter, with and without dropout", "[gpt][gradcheck]") {
    for (double p : {0.0, 0.2}) {
        INFO("dropout " << p);
        manual_seed(3);
        GPTLanguageModel model({/*vocab*/ 5, /*block*/ 4, /*n_embd*/ 4, /*n_head*/ 2, /*n_layer*/ 1, p});
        model.to(DType::Float64);
        const Tensor idx = randint(0, 5, {2, 4}), targets = randint(0, 5, {2, 4});
        require_gradcheck([&](const std::vector<Tensor>&) {
            manual_seed(8);  // the same dropout masks at every call
            return model.forward(idx, targets).second;
        }, model.parameters());
    }
}

TEST_CASE("GPT: generate crops to block_size, keeps the prompt, and refuses bad input", "[gpt][errors]") {
    manual_seed(1);
    GPTLanguageModel model({7, 3, 8, 2, 1, 0.0});
    const Tensor prompt = from_vector(std::vector<int64_t>{1, 2, 3, 4, 5, 6, 0, 1, 2, 3}, {2, 5});
    const Tensor out = model.generate(prompt, 4);  // T = 5 > block_size 3 from the start
    REQUIRE(out.shape() == Shape{2, 9});
    CHECK(out.slice(1, 0, 5).to_vector<int64_t>() == prompt.to_vector<int64_t>());
    for (int64_t id : out.to_vector<int64_t>()) CHECK((id >= 0 && id < 7));
    CHECK_THROWS_WITH(model.forward(zeros({1, 4}, DType::Int64)), Contains("T must be in [1, block_size = 3]"));
    CHECK_THROWS_WITH(model.forward(zeros({1, 2})), Contains("idx must be (B, T) int64"));
    CHECK_THROWS_WITH(model.forward(zeros({2, 2}, DType::Int64), zeros({2, 3}, DType::Int64)),
                      Contains("targets must have idx's shape"));
    CHECK_THROWS_WITH(model.generate(prompt, -1), Contains("max_new_tokens must be non-negative"));
    CHECK_THROWS_WITH(model.generate(zeros({3}, DType::Int64), 2), Contains("generate: idx must be (B, T) int64"));
    CHECK_THROWS_WITH(model.generate(zeros({1, 0}, DType::Int64), 2), Contains("T >= 1"));
    CHECK_THROWS_WITH(GPTLanguageModel({7, 3, 10, 4, 1, 0.0}), Contains("n_embd must be a multiple of n_head"));
    CHECK_THROWS_WITH(GPTLanguageModel({7, 3, 8, 2, 0, 0.0}), Contains("n_layer must be positive"));
    CHECK_THROWS_WITH(GPTLanguageModel({7, 3, 8, 2, 1, 1.0}), Contains("dropout must be in [0, 1)"));
}

// ---- the layers the GPT is built from ------------------------------------------------------------------------------

TEST_CASE("Sequential and ModuleList: children named 0, 1, 2, ...; forward in order", "[gpt][layers]") {
    manual_seed(2);
    Sequential net;
    Linear& first = net.append<Linear>(3, 5);
    net.append<ReLU>();
    net.append<Linear>(5, 2, false);
    std::vector<std::string> names;
    for (const auto& [name, p] : net.named_parameters()) names.push_back(name);
    CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "2.weight"});
    CHECK(net.size() == 3);
    CHECK(&net[0] == &first);
    const Tensor x = randn({4, 3});
    const Tensor expected = dynamic_cast<Linear&>(net[2])(relu(first(x)));
    CHECK(net(x).to_vector<float>() == expected.to_vector<float>());
    CHECK(Sequential()(x).to_vector<float>() == x.to_vector<float>());
    CHECK_THROWS_WITH(net[3], Contains("index 3 out of range for a list of 3"));
    ModuleList<Linear> list(2, 3, 3);
    CHECK(list.size() == 2);
    CHECK(list[1].weight.shape() == Shape{3, 3});
}

TEST_CASE("Module::apply visits children before their parent, in registration order", "[gpt][layers]") {
    FeedFoward ffwd(4, 0.0);
    std::vector<const Module*> seen;
    ffwd.apply([&seen](Module& m) { seen.push_back(&m); });
    REQUIRE(seen.size() == 6);  // net.0, net.1, net.2, net.3, net, ffwd
    CHECK(seen[0] == &ffwd.net[0]);
    CHECK(seen[3] == &ffwd.net[3]);
    CHECK(seen[4] == &ffwd.net);
    CHECK(seen[5] == &ffwd);
}

TEST_CASE("LayerNorm, ReLU, GELU and Dropout as layers", "[gpt][layers]") {
    LayerNorm ln(6);
    CHECK(ln.weight.to_vector<float>() == std::vector<float>(6, 1.0f));
    CHECK(ln.bias.to_vector<float>() == std::vector<float>(6, 0.0f));
    manual_seed(4);
    check_layer(ln, input({2, 3, 6}));
    CHECK_THROWS_WITH(ln(zeros({2, 5})), Contains("LayerNorm: the input's last dim must be C = 6"));
    CHECK_THROWS_WITH(LayerNorm(0), Contains("C must be positive"));
    CHECK_THROWS_WITH(GELU("fast"), Contains("approximate must be"));
    const Tensor x = from_vector(std::vector<double>{-1, 0.5, 2}, {3});
    CHECK(ReLU()(x).to_vector<double>() == relu(x).to_vector<double>());
    CHECK(GELU("tanh")(x).to_vector<double>() == gelu(x, "tanh").to_vector<double>());
    Dropout drop(0.5);
    manual_seed(0);
    CHECK(drop(ones({10})).to_vector<float>() == std::vector<float>{0, 0, 2, 0, 0, 0, 2, 2, 0, 2});
    drop.eval();
    CHECK(drop(ones({10})).to_vector<float>() == std::vector<float>(10, 1.0f));
    CHECK_THROWS_WITH(Dropout(1.5), Contains("Dropout: p must be in [0, 1]; got 1.5"));
}

TEST_CASE("FeedFoward and Block: gradcheck wrt the input and every parameter", "[gpt][layers][gradcheck]") {
    manual_seed(6);
    FeedFoward ffwd(4, 0.0);
    check_layer(ffwd, input({2, 3, 4}));
    Block block(4, 2, 0.0);
    check_layer(block, input({2, 3, 4}));
    std::vector<std::string> names;
    for (const auto& [name, p] : block.named_parameters()) names.push_back(name);
    CHECK(names.front() == "sa.heads.0.key.weight");
    CHECK(names.back() == "ln2.bias");
    CHECK(names.size() == 2 * 3 + 2 + 4 + 4);
}
