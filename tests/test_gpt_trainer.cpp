// The GPT trainer (examples/gpt.cpp, examples/support/gpt_trainer.h): its text handling, its flags, and its run
// against the lecture's script under PyTorch (tests/fixtures/make_gpt_run_fixtures.py): the same printed lines and
// per-step losses; --save then --resume continuing bit for bit; clear errors for unusable input.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "examples/support/gpt_trainer.h"
#include "examples/support/options.h"
#include "examples/support/text.h"
#include "io/safetensors.h"
#include "tests/checkpoint_helpers.h"

using namespace trainer;
using checkpoint_test::TempDir;
using ag::load_safetensors;
using ag::save_safetensors;
using ag::SafetensorsFile;
namespace fs = std::filesystem;
using Catch::Contains;

namespace {

struct RunCase {
    std::vector<std::string> flags;
    std::vector<std::string> printed;  // the lines the lecture's script prints (the last one: the generated text)
    std::vector<double> losses;        // every training step's
};

#include "tests/fixtures/gpt_run_fixtures.inc"

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

ParsedGPTOptions parse(std::vector<std::string> flags) {
    flags.insert(flags.begin(), "gpt");
    std::vector<const char*> argv;
    for (const std::string& f : flags) argv.push_back(f.c_str());
    return parse_gpt_options(static_cast<int>(argv.size()), argv.data());
}

struct Run {
    int code;
    std::string out, err;
};

// Runs the trainer with these flags (which must parse), its stdout and stderr captured.
Run run(const std::vector<std::string>& flags) {
    const ParsedGPTOptions parsed = parse(flags);
    INFO(parsed.message);
    REQUIRE(parsed.run);
    std::FILE* out = std::tmpfile();
    std::FILE* err = std::tmpfile();
    const int code = run_gpt(parsed.options, out, err);
    const auto slurp = [](std::FILE* f) {
        std::string text;
        std::rewind(f);
        for (int c; (c = std::fgetc(f)) != EOF;) text += static_cast<char>(c);
        std::fclose(f);
        return text;
    };
    return {code, slurp(out), slurp(err)};
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// The losses of a --log file.
std::vector<double> logged_losses(const std::string& path) {
    std::vector<std::string> rows = lines(read_file(path));
    REQUIRE(!rows.empty());
    CHECK(rows[0] == "step,loss");
    std::vector<double> losses;
    for (size_t i = 1; i < rows.size(); ++i) losses.push_back(std::stod(rows[i].substr(rows[i].find(',') + 1)));
    return losses;
}

}  // namespace

// ---- text ----------------------------------------------------------------------------------------------------------

TEST_CASE("decode_utf8: 1- to 4-byte characters; invalid sequences are refused at their byte", "[trainer][gpt]") {
    CHECK(decode_utf8("a\xC3\xA9\xE2\x80\x94\xF0\x9F\x98\x80", "t") == std::u32string{U'a', 0xE9, 0x2014, 0x1F600});
    CHECK(encode_utf8(decode_utf8("a\xC3\xA9\xE2\x80\x94\xF0\x9F\x98\x80", "t")) == "a\xC3\xA9\xE2\x80\x94\xF0\x9F\x98\x80");
    CHECK_THROWS_WITH(decode_utf8("ab\xFF", "f.txt"), Contains("f.txt: not valid UTF-8 at byte 2 (not a lead byte)"));
    CHECK_THROWS_WITH(decode_utf8("\x80", "t"), Contains("at byte 0"));
    CHECK_THROWS_WITH(decode_utf8("a\xE2\x80", "t"), Contains("cut short"));
    CHECK_THROWS_WITH(decode_utf8("\xC3x", "t"), Contains("continuation byte is missing"));
    CHECK_THROWS_WITH(decode_utf8("\xC0\xAF", "t"), Contains("overlong"));
    CHECK_THROWS_WITH(decode_utf8("\xED\xA0\x80", "t"), Contains("surrogate"));
    CHECK_THROWS_WITH(decode_utf8("\xF4\x90\x80\x80", "t"), Contains("above U+10FFFF"));
    CHECK(decode_utf8("", "t").empty());
}

TEST_CASE("Vocabulary: sorted distinct code points, encode and decode", "[trainer][gpt]") {
    const std::u32string text = decode_utf8("b\xC3\xA9" "a\nb", "t");  // "béa\nb"
    const Vocabulary vocab(text);
    CHECK(vocab.chars == std::u32string{U'\n', U'a', U'b', 0xE9});  // as Python's sorted(set(text))
    CHECK(vocab.encode(text) == std::vector<int64_t>{2, 3, 1, 0, 2});
    CHECK(vocab.decode({3, 1}) == "\xC3\xA9" "a");
    CHECK_THROWS_WITH(vocab.encode(U"z"), Contains("U+7A is not in the vocabulary"));
    CHECK_THROWS_WITH(vocab.decode({4}), Contains("id 4 is outside [0, 4)"));
    CHECK_THROWS_WITH(Vocabulary(U""), Contains("empty"));
}

// ---- flags ---------------------------------------------------------------------------------------------------------

TEST_CASE("parse_gpt_options: the lecture's defaults; every flag read", "[trainer][gpt]") {
    TempDir dir;
    const std::string data = (dir.path / "in.txt").string();
    write_file(data, "hello");
    const GPTOptions d = parse({"--data", data}).options;
    CHECK(d.batch_size == 64);
    CHECK(d.block_size == 256);
    CHECK(d.max_iters == 5000);
    CHECK(d.eval_interval == 500);
    CHECK(d.learning_rate == 3e-4);
    CHECK(d.eval_iters == 200);
    CHECK((d.n_embd == 384 && d.n_head == 6 && d.n_layer == 6));
    CHECK(d.dropout == 0.2);
    CHECK(d.seed == 1337);
    CHECK(d.max_new_tokens == 500);
    CHECK(d.model_flags_given.empty());
    const GPTOptions o = parse({"--data", data, "--batch-size", "3", "--block-size", "5", "--max-iters", "7",
                                "--eval-interval", "2", "--learning-rate", "0.01", "--eval-iters", "4", "--n-embd", "12",
                                "--n-head", "3", "--n-layer", "2", "--dropout", "0", "--seed", "9",
                                "--max-new-tokens", "11", "--threads", "1", "--out", dir.path.string(),
                                "--log", (dir.path / "log.csv").string(), "--save", (dir.path / "c.st").string()})
                             .options;
    CHECK((o.batch_size == 3 && o.block_size == 5 && o.max_iters == 7 && o.eval_interval == 2));
    CHECK((o.learning_rate == 0.01 && o.eval_iters == 4 && o.n_embd == 12 && o.n_head == 3 && o.n_layer == 2));
    CHECK((o.dropout == 0 && o.seed == 9 && o.max_new_tokens == 11 && o.threads == 1));
    CHECK(o.model_flags_given ==
          std::vector<std::string>{"--block-size", "--n-embd", "--n-head", "--n-layer", "--dropout"});
}

TEST_CASE("parse_gpt_options: --help, bad values and unusable files give exit codes 0 and 2", "[trainer][gpt]") {
    TempDir dir;
    const std::string data = (dir.path / "in.txt").string();
    write_file(data, "hello");
    const ParsedGPTOptions help = parse({"--help"});
    CHECK((!help.run && help.exit_code == 0));
    CHECK_THAT(help.message, Contains("--n-embd") && Contains("--resume") && Contains("--max-new-tokens"));
    const auto refused = [&](std::vector<std::string> flags, const std::string& why) {
        const ParsedGPTOptions p = parse(flags);
        INFO(p.message);
        CHECK(!p.run);
        CHECK(p.exit_code == 2);
        CHECK_THAT(p.message, Contains(why));
    };
    refused({"--data", data, "--n-embd", "10", "--n-head", "4"}, "must be a multiple of --n-head");
    refused({"--data", data, "--dropout", "1"}, "--dropout");
    refused({"--data", data, "--dropout", "nan"}, "--dropout");
    refused({"--data", data, "--learning-rate", "nan"}, "--learning-rate");
    refused({"--data", data, "--batch-size", "0"}, "--batch-size");
    refused({"--data", data, "--bogus"}, "--bogus");
    refused({"--data", (dir.path / "none.txt").string()}, "--data: ");
    refused({"--data", dir.path.string()}, "is not a regular file");
    refused({"--data", data, "--resume", (dir.path / "none.st").string()}, "--resume: ");
    refused({"--data", data, "--save", dir.path.string()}, "--save: ");
    refused({"--data", data, "--log", (dir.path / "no" / "such" / "log.csv").string()}, "--log: ");
}

// ---- the run, against the lecture's script under PyTorch ------------------------------------------------------

TEST_CASE("gpt trainer: prints what the lecture's script prints under PyTorch, the same losses at every step",
          "[trainer][gpt]") {
    TempDir dir;
    const std::string data = (dir.path / "text.txt").string(), log = (dir.path / "log.csv").string();
    write_file(data, gpt_run::kText);
    for (const RunCase* c : {&gpt_run::lecture_small, &gpt_run::no_dropout, &gpt_run::odd_width}) {
        INFO(c->flags[0] << " " << c->flags[1]);
        std::vector<std::string> flags = c->flags;
        flags.insert(flags.end(), {"--data", data, "--log", log, "--out", dir.path.string()});
        const Run r = run(flags);
        CHECK(r.code == 0);
        // The generated text spans lines: compare everything printed as one string.
        std::string expected;
        for (const std::string& line : c->printed) expected += line + "\n";
        CHECK(r.out == expected);
        const std::vector<double> losses = logged_losses(log);
        REQUIRE(losses.size() == c->losses.size());
        for (size_t i = 0; i < losses.size(); ++i) {
            INFO("step " << i);
            CHECK(losses[i] == Approx(c->losses[i]).epsilon(1e-4));
        }
        CHECK(fs::exists(dir.path / "gpt_loss.svg"));
    }
}

TEST_CASE("gpt trainer: --save then --resume continues the run bit for bit", "[trainer][gpt][checkpoint]") {
    TempDir dir;
    const std::string data = (dir.path / "text.txt").string(), ckpt = (dir.path / "run.safetensors").string();
    write_file(data, gpt_run::kText);
    // 21 = 2 * 10 + 1 steps: the first run's last step (10) is an eval step in the long run too, so the estimate
    // the short run makes at its end draws exactly what the long run draws there.
    const std::vector<std::string> common{"--data", data, "--batch-size", "3", "--block-size", "8", "--n-embd", "16",
                                          "--n-head", "2", "--n-layer", "1", "--dropout", "0.1", "--eval-interval",
                                          "10", "--eval-iters", "2", "--max-new-tokens", "30", "--out",
                                          dir.path.string()};
    const auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> flags = common;
        flags.insert(flags.end(), extra.begin(), extra.end());
        return flags;
    };
    const std::string whole_log = (dir.path / "whole.csv").string(), second_log = (dir.path / "second.csv").string();
    const Run whole = run(with({"--max-iters", "21", "--log", whole_log}));
    const Run first = run(with({"--max-iters", "11", "--save", ckpt}));
    const Run second = run(with({"--max-iters", "21", "--resume", ckpt, "--log", second_log}));
    REQUIRE((whole.code == 0 && first.code == 0 && second.code == 0));
    CHECK_THAT(second.err, Contains("resuming " + ckpt + " at step 11"));
    // The whole run's log from step 11 on is the resumed run's, value for value; so are its last eval and its text.
    std::vector<std::string> whole_rows = lines(read_file(whole_log)), second_rows = lines(read_file(second_log));
    REQUIRE(whole_rows.size() == 22);
    CHECK(std::vector<std::string>(whole_rows.begin() + 12, whole_rows.end()) ==
          std::vector<std::string>(second_rows.begin() + 1, second_rows.end()));
    const std::vector<std::string> whole_out = lines(whole.out), second_out = lines(second.out);
    REQUIRE(second_out.size() == 4);  // the parameter count, step 20's estimate, the text (from token 0, a newline)
    CHECK(std::vector<std::string>(whole_out.end() - 3, whole_out.end()) ==
          std::vector<std::string>(second_out.begin() + 1, second_out.end()));

    // The checkpoint records its model: other model flags, another text or a --max-iters it has reached are refused.
    CHECK_THROWS_WITH(run(with({"--max-iters", "11", "--resume", ckpt})), Contains("give a --max-iters above it"));
    std::vector<std::string> wider = with({"--max-iters", "30", "--resume", ckpt});
    wider[7] = "32";  // --n-embd
    CHECK_THROWS_WITH(run(wider), Contains("model has n_embd 16, not the 32 of --n-embd"));
    write_file(data, std::string(gpt_run::kText) + "\xE2\x82\xAC");  // one more character: another vocabulary
    CHECK_THROWS_WITH(run(with({"--max-iters", "30", "--resume", ckpt})), Contains("vocabulary is not the one"));
}

TEST_CASE("gpt trainer: an unusable text is refused with its file named", "[trainer][gpt][errors]") {
    TempDir dir;
    const std::string data = (dir.path / "t.txt").string();
    const std::vector<std::string> flags{"--data", data, "--block-size", "8", "--n-embd", "8", "--n-head", "2",
                                         "--n-layer", "1", "--max-iters", "1", "--out", dir.path.string()};
    write_file(data, "");
    CHECK_THROWS_WITH(run(flags), Contains(data + ": the file is empty"));
    write_file(data, "abc\xFF" "def");
    CHECK_THROWS_WITH(run(flags), Contains(data + ": not valid UTF-8 at byte 3"));
    write_file(data, std::string(50, 'x'));  // 45 to train, 5 to validate: a window of 8 needs 9
    CHECK_THROWS_WITH(run(flags), Contains("the validation part has 5 characters") && Contains(data));
}

TEST_CASE("gpt trainer: --resume takes the model from the checkpoint and refuses one whose metadata lies",
          "[trainer][gpt][checkpoint][errors]") {
    TempDir dir;
    const std::string data = dir.file("text.txt"), ckpt = dir.file("run.safetensors");
    write_file(data, gpt_run::kText);
    const std::vector<std::string> base{"--data", data, "--batch-size", "2", "--eval-interval", "10", "--eval-iters",
                                        "1", "--max-new-tokens", "5", "--out", dir.path.string()};
    const auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> flags = base;
        flags.insert(flags.end(), extra.begin(), extra.end());
        return flags;
    };
    REQUIRE(run(with({"--block-size", "8", "--n-embd", "8", "--n-head", "2", "--n-layer", "1", "--dropout", "0",
                      "--max-iters", "3", "--save", ckpt}))
                .code == 0);
    // No model flag: the checkpoint's block size 8 (not the default 256) frames the batches; one matching flag is
    // fine too.
    CHECK(run(with({"--max-iters", "5", "--resume", ckpt})).code == 0);
    CHECK(run(with({"--max-iters", "5", "--resume", ckpt, "--n-head", "2"})).code == 0);

    // The same file with one metadata value changed: refused before any model is built.
    const SafetensorsFile good = load_safetensors(ckpt);
    const auto tampered = [&](const std::string& key, const std::string& value) {
        SafetensorsFile f = good;
        if (value.empty()) f.metadata.erase(key);
        else f.metadata[key] = value;
        const std::string path = dir.file("tampered.safetensors");
        save_safetensors(path, f.tensors, f.metadata);
        return run(with({"--max-iters", "5", "--resume", path}));
    };
    CHECK_THROWS_WITH(tampered("n_layer", "100000"), Contains("is not the one of its tensors"));
    CHECK_THROWS_WITH(tampered("block_size", "100000000"), Contains("is not the one of its tensors"));
    CHECK_THROWS_WITH(tampered("n_head", "1"), Contains("is not the one of its tensors"));
    CHECK_THROWS_WITH(tampered("vocab_size", "99"), Contains("is not the one of its tensors"));
    CHECK_THROWS_WITH(tampered("dropout", "abc"), Contains("'dropout' is not a number: abc"));
    CHECK_THROWS_WITH(tampered("dropout", "0.5x"), Contains("'dropout' is not a number"));
    CHECK_THROWS_WITH(tampered("dropout", ""), Contains("no 'dropout' in it"));
    CHECK_THROWS_WITH(tampered("model", "Head"), Contains("its model is 'Head'"));
    CHECK_THROWS_WITH(tampered("iter", "2x"), Contains("'iter' is not a whole number"));
    const std::string rng = good.metadata.at("rng_state");
    CHECK_THROWS_WITH(tampered("rng_state", rng.substr(0, rng.rfind(' '))), Contains("is not 627 whole numbers"));
    CHECK_THROWS_WITH(tampered("rng_state", rng + " 5"), Contains("has more than 627 numbers"));
    std::string zeros;
    for (int i = 0; i < 624; ++i) zeros += "0 ";
    CHECK_THROWS_WITH(tampered("rng_state", zeros + "624 0 0"), Contains("all zero"));
}

TEST_CASE("gpt trainer: a text with NUL characters is generated and printed whole", "[trainer][gpt]") {
    TempDir dir;
    const std::string data = dir.file("nul.txt");
    std::string text;
    for (int i = 0; i < 400; ++i) text += "\0ab"[(i * 7) % 3];
    write_file(data, text);
    const Run r = run({"--data", data, "--block-size", "8", "--n-embd", "8", "--n-head", "2", "--n-layer", "1",
                       "--max-iters", "2", "--eval-iters", "1", "--batch-size", "2", "--max-new-tokens", "30",
                       "--out", dir.path.string()});
    REQUIRE(r.code == 0);
    const std::string last = r.out.substr(r.out.rfind("val loss"));
    CHECK(last.size() == std::string("val loss 0.0000\n").size() + 31 + 1);  // the 31 characters, NULs included
}
