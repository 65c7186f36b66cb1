// The trainer's support code (examples/support): tasks on hand-checked sequences, the model's scored loss, the
// flag parser, the SVG and text plots, and a tiny training run.
#include <catch2/catch.hpp>

#include <array>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "examples/support/model.h"
#include "examples/support/options.h"
#include "examples/support/plots.h"
#include "examples/support/tasks.h"
#include "layers/optim.h"
#include "tests/checkpoint_helpers.h"

using namespace trainer;
namespace fs = std::filesystem;
using ag::DType;
using ag::Tensor;

namespace {

std::vector<int64_t> ints(const Tensor& t) { return t.to_vector<int64_t>(); }

// parse_options on a list of flags, as main would see them after the program name.
ParsedOptions parse(std::vector<const char*> flags) {
    flags.insert(flags.begin(), "train");
    return parse_options(static_cast<int>(flags.size()), flags.data());
}

// How many times `needle` occurs in `text`.
size_t count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

}  // namespace

// ---- tasks ---------------------------------------------------------------------------------------------------------

TEST_CASE("shift task: each position from k on holds the token k steps back", "[trainer]") {
    Batch b = label_shift(ag::tensor({{1, 2, 3, 4, 5}, {9, 8, 7, 6, 5}}, DType::Int64), 2);
    CHECK(ints(b.tokens) == std::vector<int64_t>{1, 2, 3, 4, 5, 9, 8, 7, 6, 5});
    CHECK(ints(b.targets) == std::vector<int64_t>{0, 0, 1, 2, 3, 0, 0, 9, 8, 7});
    CHECK(ints(b.scored) == std::vector<int64_t>{0, 0, 1, 1, 1, 0, 0, 1, 1, 1});
}

TEST_CASE("max task: each position holds the largest token so far", "[trainer]") {
    Batch b = label_running_max(ag::tensor({{3, 1, 4, 1, 5, 9, 2, 6}}, DType::Int64));
    CHECK(ints(b.targets) == std::vector<int64_t>{3, 3, 4, 4, 5, 9, 9, 9});
    CHECK(ints(b.scored) == std::vector<int64_t>(8, 1));
}

TEST_CASE("lookup task: a pointer token fetches the value stored in its slot", "[trainer]") {
    // 4 values (tokens 0..3), 3 slots; pointer tokens 4, 5, 6 name slots 0, 1, 2
    Batch b = label_lookup(ag::tensor({{2, 0, 3, 6, 4, 5, 6}}, DType::Int64), 4, 3);
    CHECK(ints(b.targets) == std::vector<int64_t>{0, 0, 0, 3, 2, 0, 3});
    CHECK(ints(b.scored) == std::vector<int64_t>{0, 0, 0, 1, 1, 1, 1});
    REQUIRE_THROWS_WITH(label_lookup(ag::tensor({{2, 0, 3, 1}}, DType::Int64), 4, 3),
                        "lookup: position 3 must hold a pointer token in [4, 7); got 1");
}

TEST_CASE("tasks: tokens must be a (B, T) int64 tensor", "[trainer]") {
    REQUIRE_THROWS_WITH(label_running_max(ag::tensor({1, 2, 3}, DType::Int64)),
                        "task: tokens must be a (B, T) int64 tensor; got torch.int64 of shape [3]");
    REQUIRE_THROWS_WITH(find_task("sort"), "find_task: no task called 'sort'; the tasks are shift, max, lookup");
}

TEST_CASE("tasks: sampled batches fit the task and repeat for the same seed", "[trainer]") {
    for (const Task& task : all_tasks()) {
        INFO("task " << task.name);
        ag::Generator gen(7), again(7);
        Batch b = task.sample(5, gen);
        CHECK(b.tokens.shape() == ag::Shape{5, task.T});
        CHECK(b.targets.shape() == ag::Shape{5, task.T});
        CHECK(b.scored.shape() == ag::Shape{5, task.T});
        for (int64_t v : ints(b.tokens)) CHECK((v >= 0 && v < task.V));
        for (int64_t v : ints(b.targets)) CHECK((v >= 0 && v < task.V));
        CHECK(scored_rows(b).numel() > 0);
        CHECK(ints(task.sample(5, again).tokens) == ints(b.tokens));
        CHECK(!task.token_name(task.V - 1).empty());
    }
}

TEST_CASE("scored_rows: the flat indices of the scored positions", "[trainer]") {
    Batch b = label_shift(ag::tensor({{1, 2, 3}, {4, 5, 6}}, DType::Int64), 1);
    CHECK(ints(scored_rows(b)) == std::vector<int64_t>{1, 2, 4, 5});
}

// ---- model ---------------------------------------------------------------------------------------------------------

TEST_CASE("scored_loss: the cross-entropy of the scored positions only", "[trainer]") {
    Batch b = label_shift(ag::tensor({{1, 2, 0}}, DType::Int64), 1);  // scored: t = 1 (target 1), t = 2 (target 2)
    ag::manual_seed(3);
    Tensor logits = ag::randn({1, 3, 4});
    Tensor expected = ag::cross_entropy(logits[0].slice(0, 1, 3), ag::tensor({1, 2}, DType::Int64));
    CHECK(scored_loss(logits, b).item() == Approx(expected.item()));
    logits[0][0] = 100.0;  // an unscored position changes nothing
    CHECK(scored_loss(logits, b).item() == Approx(expected.item()));
}

TEST_CASE("accuracy: a sequence counts only if every scored position is right", "[trainer]") {
    Batch b = label_shift(ag::tensor({{1, 2, 0}, {3, 1, 2}}, DType::Int64), 1);  // targets . 1 2 / . 3 1
    Tensor logits = ag::zeros({2, 3, 4});
    const std::vector<std::array<int64_t, 3>> ones = {{0, 1, 1}, {0, 2, 2}, {1, 1, 3}, {1, 2, 0}, {0, 0, 3}};
    for (auto [bi, t, v] : ones) logits[bi][t][v] = 1.0;  // sequence 0 right; sequence 1 wrong at t = 2
    Accuracy a = accuracy(logits, b);
    CHECK(a.positions == 4);
    CHECK(a.positions_right == 3);
    CHECK(a.sequences_right == 1);
    CHECK(a.sequence_rate() == 0.5);
}

TEST_CASE("AttentionModel: the whole loss passes gradcheck wrt every parameter, with one head and with two",
          "[trainer]") {
    for (int64_t heads : {1, 2}) {
        const Task& task = find_task("max");
        ag::manual_seed(5);
        AttentionModel model({task.V, task.T, 4, 3, heads});
        model.to(DType::Float64);
        ag::Generator gen(5);
        Batch b = task.sample(2, gen);
        auto loss = [&](const std::vector<Tensor>&) { return scored_loss(model(b.tokens), b); };
        ag::GradcheckResult r = ag::gradcheck(loss, model.parameters());
        INFO(r.report);
        CHECK(r.passed);
        const Tensor weights = model.attention(b.tokens);  // (B, T, T), each row a distribution over the past
        CHECK(weights.shape() == ag::Shape{2, task.T, task.T});
        CHECK(ag::allclose(weights.sum(-1), ag::ones({2, task.T}, DType::Float64)));
        CHECK(ag::allclose(weights, ag::tril(weights)));
    }
}

TEST_CASE("training smoke test: a few AdamW steps on the shift task lower the loss", "[trainer]") {
    const Task& task = find_task("shift");
    ag::manual_seed(1);
    AttentionModel model({task.V, task.T, 16, 16, 1});
    ag::AdamW optimizer(model.named_parameters(), 1e-2);
    ag::Generator gen(1);
    const Batch fixed = task.sample(64, gen);  // the loss is measured on the same batch before and after
    const double before = scored_loss(model(fixed.tokens), fixed).item();
    for (int step = 0; step < 40; ++step) {
        Batch b = task.sample(16, gen);
        Tensor loss = scored_loss(model(b.tokens), b);
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
    }
    const double after = scored_loss(model(fixed.tokens), fixed).item();
    INFO("loss before " << before << ", after " << after);
    CHECK(after < 0.5 * before);
}

// ---- options -------------------------------------------------------------------------------------------------------

TEST_CASE("parse_options: no flags give the defaults", "[trainer]") {
    ParsedOptions p = parse({});
    REQUIRE(p.run);
    CHECK(p.options.task == "shift");
    CHECK(p.options.save.empty());
    CHECK(p.options.out == ".");
}

TEST_CASE("parse_options: every flag is read", "[trainer]") {
    ParsedOptions p = parse({"--task", "lookup", "--steps", "50", "--lr", "0.003", "--seed", "9", "--threads", "2",
                             "--heads", "4", "--batch", "8", "--save", "model.safetensors", "--out=plots"});
    REQUIRE(p.run);
    CHECK(p.options.task == "lookup");
    CHECK(p.options.steps == 50);
    CHECK(p.options.lr == 0.003);
    CHECK(p.options.seed == 9);
    CHECK(p.options.threads == 2);
    CHECK(p.options.heads == 4);
    CHECK(p.options.batch == 8);
    CHECK(p.options.save == "model.safetensors");
    CHECK(p.options.out == "plots");
}

TEST_CASE("parse_options: --help gives the usage and exit code 0", "[trainer]") {
    ParsedOptions p = parse({"--help"});
    CHECK_FALSE(p.run);
    CHECK(p.exit_code == 0);
    CHECK(p.message.find("--steps") != std::string::npos);
    CHECK(p.message.find("lookup") != std::string::npos);  // the task list
}

TEST_CASE("parse_options: a bad flag or value gives a message naming it and exit code 2", "[trainer]") {
    const std::vector<std::pair<std::vector<const char*>, std::string>> cases = {
        {{"--task", "sort"}, "--task"},   {{"--steps", "0"}, "--steps"},     {{"--steps", "many"}, "--steps"},
        {{"--lr", "-1"}, "--lr"},         {{"--heads", "0"}, "--heads"},     {{"--batch", "1.5"}, "--batch"},
        {{"--seed", "-3"}, "--seed"},     {{"--threads", "0"}, "--threads"}, {{"--bogus"}, "--bogus"},
        {{"--steps"}, "--steps"},         {{"--save", "/no/such/dir/model.safetensors"}, "/no/such/dir"},
    };
    for (const auto& [flags, name] : cases) {
        ParsedOptions p = parse(flags);
        INFO(p.message);
        CHECK_FALSE(p.run);
        CHECK(p.exit_code == 2);
        CHECK(p.message.rfind("error: ", 0) == 0);
        CHECK(p.message.find(name) != std::string::npos);
        CHECK(p.message.find("--help") != std::string::npos);
    }
}

TEST_CASE("parse_options: a --save or --out that cannot be written is refused before any training, exit code 2",
          "[trainer]") {
    checkpoint_test::TempDir dir;
    const std::string file = dir.file("a_file"), too_long(300, 'd');  // NAME_MAX is 255
    checkpoint_test::write_bytes(file, "x");
    std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--save", too_long + "/x"}, "--save: cannot reach " + too_long + "/x: File name too long"},
        {{"--save", dir.path.string()}, "--save: " + dir.path.string() + " is a directory"},
        {{"--save", file + "/x"}, "--save: " + file + " is not a directory"},
        {{"--save", "/dev/null"}, "--save: /dev/null is not a regular file"},
        {{"--out", file}, "--out: " + file + " is not a directory"},
        {{"--out", file + "/plots"}, "--out: cannot make the directory " + file + "/plots: " + file + " is not a directory"},
        {{"--out", too_long}, "--out: cannot reach the directory " + too_long + ": File name too long"},
        {{"--out", ""}, "--out: the directory must not be empty"},
    };
    if (::geteuid() != 0) {  // root may read and write any directory
        const std::string locked = dir.file("locked"), read_only = dir.file("read_only");
        fs::create_directory(locked);
        fs::create_directory(read_only);
        fs::permissions(locked, fs::perms::none);
        fs::permissions(read_only, fs::perms::owner_read | fs::perms::owner_exec);
        cases.push_back({{"--save", locked + "/x"}, "--save: cannot reach " + locked + "/x: Permission denied"});
        cases.push_back({{"--out", locked + "/plots"}, "--out: cannot reach the directory " + locked + "/plots"});
        cases.push_back({{"--save", read_only + "/x"},
                         "--save: cannot write into the directory " + read_only + ": Permission denied"});
        cases.push_back({{"--out", read_only}, "--out: cannot write into the directory " + read_only});
    } else {
        WARN("running as root: unreadable and read-only directories are not tested");
    }
    for (const auto& [flags, expected] : cases) {
        std::vector<const char*> argv;
        for (const std::string& flag : flags) argv.push_back(flag.c_str());
        const ParsedOptions p = parse(argv);
        INFO(p.message);
        CHECK_FALSE(p.run);
        CHECK(p.exit_code == 2);
        CHECK(p.message.rfind("error: " + expected, 0) == 0);
    }
    fs::permissions(dir.path, fs::perms::owner_all);  // so that TempDir can remove everything
    for (const auto& e : fs::directory_iterator(dir.path)) fs::permissions(e.path(), fs::perms::owner_all);
}

TEST_CASE("parse_options: a --save and --out that can be written pass, and parsing makes no directory", "[trainer]") {
    checkpoint_test::TempDir dir;
    const std::string save = dir.file("model.safetensors"), out = dir.file("plots/run1");
    fs::create_symlink("runs/model.safetensors", dir.path / "latest");  // the save writes through the link
    fs::create_directory(dir.path / "runs");
    for (const std::string& path : {save, dir.file("latest")}) {
        const ParsedOptions p = parse({"--save", path.c_str(), "--out", out.c_str()});
        INFO(p.message);
        CHECK(p.run);
    }
    CHECK_FALSE(fs::exists(dir.path / "plots"));
}

// ---- plots ---------------------------------------------------------------------------------------------------------

TEST_CASE("text_heatmap: one character cell per weight, from ' ' to '@'", "[trainer]") {
    std::string text = text_heatmap({{1.0, 0.0}, {0.5, 0.5}}, {"a", "b"}, {"a", "b"});
    CHECK(text == "   a  b  \n"
                  "a  @@    \n"
                  "b  ++ ++ \n");
}

TEST_CASE("svg_heatmap: well-formed, one cell per weight, labels escaped", "[trainer]") {
    std::string svg = svg_heatmap({{1, 0, 0}, {0.5, 0.5, 0}}, {"x", "<y>"}, {"p", "q", "r"}, "title & more");
    CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
    CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
    CHECK(count(svg, "<rect class=\"cell\"") == 6);
    CHECK(count(svg, "<text") == 6);  // title, 3 column labels, 2 row labels
    CHECK(svg.find("&lt;y&gt;") != std::string::npos);
    CHECK(svg.find("title &amp; more") != std::string::npos);
    REQUIRE_THROWS_WITH(svg_heatmap({{1, 0}}, {"a"}, {"a"}, ""), "heatmap: need one label per row and per column; "
                                                                  "got a 1 x 2 matrix with 1 row and 1 column labels");
}

TEST_CASE("svg_line_plot: well-formed, one polyline point per value", "[trainer]") {
    std::vector<double> ys;
    for (int i = 0; i < 250; ++i) ys.push_back(2.0 / (1 + i));
    std::string svg = svg_line_plot(ys, "loss", "step", "loss");
    CHECK(svg.rfind("<svg", 0) == 0);
    CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
    REQUIRE(count(svg, "<polyline") == 1);
    const size_t from = svg.find("points=\"") + 8;
    const std::string points = svg.substr(from, svg.find('"', from) - from);
    CHECK(count(points, ",") == ys.size());
    CHECK(svg_line_plot({1.0}, "", "", "").rfind("<svg", 0) == 0);  // a single point is drawable too
    REQUIRE_THROWS_WITH(svg_line_plot({}, "", "", ""), "svg_line_plot: need at least one point; got none");
}
