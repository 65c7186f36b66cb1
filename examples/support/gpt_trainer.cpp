// examples/gpt.cpp's training run: see examples/support/gpt_trainer.h.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <tuple>

#include "engine/engine.h"
#include "engine/random.h"
#include "examples/support/gpt_trainer.h"
#include "examples/support/plots.h"
#include "examples/support/text.h"
#include "io/checkpoint.h"
#include "layers/layers.h"

using ag::Tensor;
using Clock = std::chrono::steady_clock;

namespace trainer {

namespace {

// ---- 2. the text ----------------------------------------------------------------------------------------------

struct Corpus {
    Vocabulary vocab;
    std::vector<int64_t> ids;  // the whole text, encoded
    Tensor train, val;         // (N) int64 token ids, the first 90% and the rest (split once the context is known)
};

Corpus read_corpus(const GPTOptions& o) {
    std::u32string text;
    try {
        text = read_utf8_file(o.data);
    } catch (const std::invalid_argument& e) {
        throw InputError(e.what());
    }
    Vocabulary vocab(text);
    std::vector<int64_t> ids = vocab.encode(text);
    return {std::move(vocab), std::move(ids), Tensor(), Tensor()};
}

// The lecture's split: n = int(0.9 * len(data)); train_data = data[:n], val_data = data[n:]. Each part must hold
// more than block_size characters, for a window and its next character.
void split(Corpus& c, const GPTOptions& o) {
    const int64_t N = static_cast<int64_t>(c.ids.size());
    const int64_t n = static_cast<int64_t>(0.9 * static_cast<double>(N));
    const Tensor data = ag::from_vector(c.ids, {N});
    c.train = data.slice(0, 0, n);
    c.val = data.slice(0, n, N);
    for (const auto& [name, part] : {std::pair{"training", c.train}, std::pair{"validation", c.val}})
        if (part.size(0) <= o.block_size)
            throw InputError(o.data + ": the " + std::string(name) + " part has " + std::to_string(part.size(0)) +
                             " characters, but a batch needs more than the block size " +
                             std::to_string(o.block_size) + " (the text has " + std::to_string(N) +
                             "; a smaller --block-size or a longer text)");
}

// x, y (batch, block): random windows of the split and the same windows one character on (the lecture's
// get_batch: ix = randint(len(data) - block_size, (batch_size,))).
std::pair<Tensor, Tensor> get_batch(const Tensor& data, const GPTOptions& o) {
    const std::vector<int64_t> ix = ag::randint(0, data.size(0) - o.block_size, {o.batch_size}).to_vector<int64_t>();
    std::vector<Tensor> xs, ys;
    for (int64_t i : ix) {
        xs.push_back(data.slice(0, i, i + o.block_size).view({1, o.block_size}));
        ys.push_back(data.slice(0, i + 1, i + o.block_size + 1).view({1, o.block_size}));
    }
    return {ag::cat(xs, 0), ag::cat(ys, 0)};
}

// The mean loss over eval_iters batches of each split, in eval mode (no dropout) and without a graph; the losses
// are kept in float32 and averaged in float32, as the lecture's torch.zeros(eval_iters).mean().
std::pair<double, double> estimate_loss(ag::GPTLanguageModel& model, const Corpus& c, const GPTOptions& o) {
    ag::NoGradGuard no_grad;
    model.eval();
    double mean[2];
    for (int split = 0; split < 2; ++split) {
        std::vector<float> losses;
        for (int64_t k = 0; k < o.eval_iters; ++k) {
            auto [x, y] = get_batch(split == 0 ? c.train : c.val, o);
            losses.push_back(static_cast<float>(model.forward(x, y).second.item()));
        }
        mean[split] = ag::from_vector(losses, {o.eval_iters}).mean().item();
    }
    model.train();
    return {mean[0], mean[1]};
}

// ---- 3. the model, afresh or from a checkpoint ----------------------------------------------------------------

ag::GPTConfig config_of(const GPTOptions& o, int64_t vocab_size) {
    return {vocab_size, o.block_size, o.n_embd, o.n_head, o.n_layer, o.dropout};
}

// The checkpoint's metadata: the model's configuration, the vocabulary, where the run stands and its random stream.
std::map<std::string, std::string> run_metadata(const ag::GPTConfig& c, const Vocabulary& vocab, int64_t next_iter) {
    std::string rng;
    for (uint64_t word : ag::default_generator().state()) rng += (rng.empty() ? "" : " ") + std::to_string(word);
    return {{"model", "GPTLanguageModel"},
            {"vocab_size", std::to_string(c.vocab_size)},
            {"block_size", std::to_string(c.block_size)},
            {"n_embd", std::to_string(c.n_embd)},
            {"n_head", std::to_string(c.n_head)},
            {"n_layer", std::to_string(c.n_layer)},
            {"dropout", ag::number_str(c.dropout)},
            {"vocabulary", encode_utf8(vocab.chars)},
            {"iter", std::to_string(next_iter)},
            {"rng_state", rng}};
}

// A field of the checkpoint's metadata; throws InputError naming the file if it is not there.
const std::string& field(const std::map<std::string, std::string>& m, const std::string& key, const std::string& path) {
    const auto it = m.find(key);
    if (it == m.end()) throw InputError(path + ": not a GPT checkpoint of this trainer (no '" + key + "' in it)");
    return it->second;
}

// A whole number, or (as_double) a finite number, written exactly in the field: nothing before or after it.
int64_t whole(const std::map<std::string, std::string>& m, const std::string& key, const std::string& path) {
    const std::string& text = field(m, key, path);
    int64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        throw InputError(path + ": the checkpoint's '" + key + "' is not a whole number: " + text);
    return v;
}
double number(const std::map<std::string, std::string>& m, const std::string& key, const std::string& path) {
    const std::string& text = field(m, key, path);
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty() || !std::isfinite(v))
        throw InputError(path + ": the checkpoint's '" + key + "' is not a number: " + text);
    return v;
}

// A checkpoint's tensor shape, or [] when it has no tensor of that name.
ag::Shape shape_of(const ag::SafetensorsFile& f, const std::string& name) {
    for (const auto& [n, t] : f.tensors)
        if (n == name) return t.shape();
    return {};
}

// --resume, before anything is built: the configuration in the metadata must be the one the file's tensors have
// (so a tampered number cannot make the model allocate what the file does not hold), the vocabulary the text's,
// and the model flags given must agree with it. Returns the configuration; `run` takes its sizes.
ag::GPTConfig checkpoint_config(const ag::SafetensorsFile& f, const GPTOptions& o, const Vocabulary& vocab,
                                GPTOptions& run) {
    const std::string& path = o.resume;
    const auto& m = f.metadata;
    if (field(m, "model", path) != "GPTLanguageModel")
        throw InputError(path + ": not a GPT checkpoint of this trainer (its model is '" + m.at("model") + "')");
    const ag::GPTConfig c{whole(m, "vocab_size", path), whole(m, "block_size", path), whole(m, "n_embd", path),
                          whole(m, "n_head", path),     whole(m, "n_layer", path),    number(m, "dropout", path)};
    int64_t layers = 0, heads = 0;
    while (!shape_of(f, "blocks." + std::to_string(layers) + ".ln1.weight").empty()) ++layers;
    while (!shape_of(f, "blocks.0.sa.heads." + std::to_string(heads) + ".key.weight").empty()) ++heads;
    if (shape_of(f, "token_embedding_table.weight") != ag::Shape{c.vocab_size, c.n_embd} ||
        shape_of(f, "position_embedding_table.weight") != ag::Shape{c.block_size, c.n_embd} ||
        layers != c.n_layer || heads != c.n_head)
        throw InputError(path + ": the checkpoint's configuration (vocab_size " + std::to_string(c.vocab_size) +
                         ", block_size " + std::to_string(c.block_size) + ", n_embd " + std::to_string(c.n_embd) +
                         ", n_head " + std::to_string(c.n_head) + ", n_layer " + std::to_string(c.n_layer) +
                         ") is not the one of its tensors");
    if (field(m, "vocabulary", path) != encode_utf8(vocab.chars) || c.vocab_size != vocab.size())
        throw InputError(path + ": the checkpoint's vocabulary is not the one of " + o.data +
                         "; resume with the text it was trained on");
    // Each model flag given must say what the checkpoint holds; the ones left out take its values.
    const std::vector<std::tuple<std::string, double, double>> flags{
        {"--block-size", double(o.block_size), double(c.block_size)}, {"--n-embd", double(o.n_embd), double(c.n_embd)},
        {"--n-head", double(o.n_head), double(c.n_head)}, {"--n-layer", double(o.n_layer), double(c.n_layer)},
        {"--dropout", o.dropout, c.dropout}};
    for (const auto& [flag, given, saved] : flags)
        if (std::count(o.model_flags_given.begin(), o.model_flags_given.end(), flag) && given != saved) {
            std::string key = flag.substr(2);
            std::replace(key.begin(), key.end(), '-', '_');
            throw InputError(path + ": the checkpoint's model has " + key + " " + ag::number_str(saved) +
                             ", not the " + ag::number_str(given) + " of " + flag + "; leave " + flag +
                             " out to continue it");
        }
    run.block_size = c.block_size, run.n_embd = c.n_embd, run.n_head = c.n_head, run.n_layer = c.n_layer;
    run.dropout = c.dropout;
    return c;
}

// --resume: the model, the optimiser and the random stream are the checkpoint's. Returns the iteration to
// continue from.
int64_t resume(const ag::SafetensorsFile& f, const GPTOptions& o, const ag::GPTConfig& config,
               std::unique_ptr<ag::GPTLanguageModel>& model, std::unique_ptr<ag::AdamW>& optimizer) {
    const std::string& path = o.resume;
    const auto& m = f.metadata;
    try {
        model = std::make_unique<ag::GPTLanguageModel>(config);
    } catch (const std::invalid_argument& e) {
        throw InputError(path + ": the checkpoint's configuration is not a valid model: " + e.what());
    }
    optimizer = std::make_unique<ag::AdamW>(model->named_parameters(), o.learning_rate);
    try {
        ag::load_checkpoint(path, *model, optimizer.get());
    } catch (const std::invalid_argument& e) {
        throw InputError(e.what());
    }
    std::array<uint64_t, ag::Generator::kStateWords> words{};
    std::istringstream in(field(m, "rng_state", path));
    for (uint64_t& w : words)
        if (!(in >> w)) throw InputError(path + ": the checkpoint's random state is not " +
                                         std::to_string(words.size()) + " whole numbers");
    if (std::string rest; in >> rest)
        throw InputError(path + ": the checkpoint's random state has more than " + std::to_string(words.size()) +
                         " numbers");
    try {
        ag::default_generator().set_state(words);
    } catch (const std::invalid_argument& e) {
        throw InputError(path + ": " + e.what());
    }
    const int64_t iter = whole(m, "iter", path);
    if (iter < 0 || iter >= o.max_iters)
        throw InputError(path + ": the run is at step " + std::to_string(iter) + "; give a --max-iters above it to "
                         "continue (now " + std::to_string(o.max_iters) + ")");
    return iter;
}

// ---- 4. the training loop ---------------------------------------------------------------------------------------

struct History {
    std::vector<double> steps, losses;                 // every training step
    std::vector<double> eval_steps, train_eval, val_eval;  // every estimate
};

// "1m05s": for the progress line.
std::string duration(double seconds) {
    const long s = std::lround(seconds);
    return s >= 60 ? std::to_string(s / 60) + "m" + (s % 60 < 10 ? "0" : "") + std::to_string(s % 60) + "s"
                   : std::to_string(s) + "s";
}

History train(ag::GPTLanguageModel& model, ag::AdamW& optimizer, const Corpus& c, const GPTOptions& o,
              int64_t first_iter, std::FILE* out, std::FILE* err) {
    History h;
    const bool progress = ::isatty(::fileno(err));
    const Clock::time_point start = Clock::now();
    Clock::time_point shown = start;
    for (int64_t iter = first_iter; iter < o.max_iters; ++iter) {
        if (iter % o.eval_interval == 0 || iter == o.max_iters - 1) {
            const auto [train_loss, val_loss] = estimate_loss(model, c, o);
            if (progress) std::fprintf(err, "\r\033[K");
            std::fprintf(out, "step %lld: train loss %.4f, val loss %.4f\n", static_cast<long long>(iter), train_loss,
                        val_loss);
            std::fflush(out);
            h.eval_steps.push_back(static_cast<double>(iter));
            h.train_eval.push_back(train_loss);
            h.val_eval.push_back(val_loss);
        }
        const auto [xb, yb] = get_batch(c.train, o);
        const Tensor loss = model.forward(xb, yb).second;
        optimizer.zero_grad();
        loss.backward();
        optimizer.step();
        const double value = loss.item();
        if (!std::isfinite(value))
            throw std::runtime_error("the loss became " + ag::number_str(value) + " at step " + std::to_string(iter) +
                                     "; stopping (try a smaller --learning-rate)");
        h.steps.push_back(static_cast<double>(iter));
        h.losses.push_back(value);
        const Clock::time_point now = Clock::now();
        if (progress && now - shown > std::chrono::milliseconds(500)) {
            shown = now;
            const double seconds = std::chrono::duration<double>(now - start).count();
            const double done = static_cast<double>(iter + 1 - first_iter);
            std::fprintf(err, "\r\033[Kstep %lld/%lld  loss %.4f  %.0f tokens/s  %s left",
                         static_cast<long long>(iter + 1), static_cast<long long>(o.max_iters), value,
                         done * static_cast<double>(o.batch_size * o.block_size) / seconds,
                         duration(seconds / done * static_cast<double>(o.max_iters - iter - 1)).c_str());
        }
    }
    if (progress) std::fprintf(err, "\r\033[K");
    return h;
}

// ---- 5. the files ------------------------------------------------------------------------------------------------

// "step,loss", then one line per step, losses with 9 significant digits (a float32 read back exactly).
std::string log_csv(const History& h) {
    std::string csv = "step,loss\n";
    char line[64];
    for (size_t i = 0; i < h.steps.size(); ++i) {
        std::snprintf(line, sizeof line, "%lld,%.9g\n", static_cast<long long>(h.steps[i]), h.losses[i]);
        csv += line;
    }
    return csv;
}

void write_plot(const GPTOptions& o, const History& h, std::FILE* err) {
    std::vector<Series> series{{"training loss (each step)", h.steps, h.losses}};
    if (!h.eval_steps.empty()) {
        series.push_back({"train (estimate)", h.eval_steps, h.train_eval});
        series.push_back({"val (estimate)", h.eval_steps, h.val_eval});
    }
    std::filesystem::create_directories(o.out);
    const std::string path = o.out + "/gpt_loss.svg";
    write_text_file(path, svg_series_plot(series, "GPT on " + o.data + ": loss", "step", "cross-entropy"));
    std::fprintf(err, "wrote %s\n", path.c_str());
}

// "10.788929" for 10788929 parameters: the count / 1e6 as Python prints a float (repr, with ".0" when whole).
std::string millions(int64_t count) {
    std::string s = ag::number_str(static_cast<double>(count) / 1e6);
    if (s.find_first_of(".en") == std::string::npos) s += ".0";
    return s;
}

}  // namespace

int run_gpt(const GPTOptions& o, std::FILE* out, std::FILE* err) {
    if (o.threads > 0) ag::set_num_threads(o.threads);
    // 2. the text
    Corpus corpus = read_corpus(o);

    // 3. the model and its optimiser; a resumed run takes its model's sizes from the checkpoint
    GPTOptions run = o;
    ag::GPTConfig config = config_of(o, corpus.vocab.size());
    std::unique_ptr<ag::GPTLanguageModel> model;
    std::unique_ptr<ag::AdamW> optimizer;
    int64_t first_iter = 0;
    if (o.resume.empty()) {
        split(corpus, run);
        ag::manual_seed(o.seed);
        model = std::make_unique<ag::GPTLanguageModel>(config);
        optimizer = std::make_unique<ag::AdamW>(model->named_parameters(), o.learning_rate);
    } else {
        ag::SafetensorsFile file;
        try {
            file = ag::load_safetensors(o.resume);
        } catch (const std::invalid_argument& e) {
            throw InputError(e.what());
        }
        config = checkpoint_config(file, o, corpus.vocab, run);
        split(corpus, run);
        first_iter = resume(file, run, config, model, optimizer);
        std::fprintf(err, "resuming %s at step %lld\n", o.resume.c_str(), static_cast<long long>(first_iter));
    }
    std::fprintf(out, "%s M parameters\n", millions(model->num_parameters()).c_str());
    std::fflush(out);

    // 4. training
    const Clock::time_point start = Clock::now();
    const History history = train(*model, *optimizer, corpus, run, first_iter, out, err);
    std::fprintf(err, "trained %lld steps in %.1f s\n", static_cast<long long>(o.max_iters - first_iter),
                 std::chrono::duration<double>(Clock::now() - start).count());

    // 5. the files, before anything else can fail
    if (!o.save.empty()) {
        ag::save_checkpoint(o.save, *model, optimizer.get(), run_metadata(config, corpus.vocab, o.max_iters));
        std::fprintf(err, "saved the model, the optimiser and the random state to %s\n", o.save.c_str());
    }
    if (!o.log.empty()) {
        write_text_file(o.log, log_csv(history));
        std::fprintf(err, "wrote %s\n", o.log.c_str());
    }
    write_plot(o, history, err);

    // 6. text
    const Tensor context = ag::zeros({1, 1}, ag::DType::Int64);
    const Tensor ids = model->generate(context, o.max_new_tokens).select(0, 0);
    const std::string text = corpus.vocab.decode(ids.to_vector<int64_t>()) + "\n";  // any character, NUL too
    std::fwrite(text.data(), 1, text.size(), out);
    return 0;
}

}  // namespace trainer
