// The graph of a self-attention Head's loss: printed as the tape backward walks, and drawn with Graphviz.
//
//   build/examples/graph                      # writes head_graph.dot and, with graphviz installed, head_graph.svg
//   build/examples/graph --mode notebook      # the notebook's masked_fill + softmax spelled out, op by op
//
// main runs these steps:
//   1. a Head(C = 8, head_size = 4) on a (2, 4, 8) input, and the cross-entropy of its output (the loss);
//   2. print_graph(loss): the ops backward will visit, in its order, with shapes and names ('q', 'k', 'wei', ...);
//   3. loss.backward(), keeping the graph, and print_graph again: the parameters now show their gradients;
//   4. to_dot(loss) written to head_graph.dot, then `dot -Tsvg` (or -Tpng) renders it when Graphviz is installed.
// docs/06-gradcheck.md reads the output line by line.
#include <spawn.h>
#include <sys/wait.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include "engine/engine.h"
#include "io/atomic_file.h"
#include "layers/layers.h"

extern char** environ;

namespace {

struct Options {
    std::string mode = "layer";  // layer | notebook: the Head's fused op, or the notebook's lines op by op
    std::string format = "svg";  // svg | png: what Graphviz renders
    std::string out = ".";       // directory for head_graph.dot and the picture
};

// The Graphviz run: "rendered", "not installed", or why it failed.
struct RenderResult {
    bool rendered = false;
    std::string problem;
};

// Runs `dot -T<format> dot_path -o picture_path` without a shell (no quoting of paths). The picture is rendered to a
// temporary name and renamed into place, so a failed run never leaves a half-written picture.
RenderResult render_with_graphviz(const std::string& dot_path, const std::string& picture_path,
                                  const std::string& format) {
    const std::string tmp = picture_path + ".tmp";
    std::vector<std::string> args = {"dot", "-T" + format, dot_path, "-o", tmp};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int err = posix_spawnp(&pid, "dot", nullptr, nullptr, argv.data(), environ);
    if (err == ENOENT) return {false, "Graphviz's `dot` is not installed (Debian: apt-get install graphviz)"};
    if (err != 0) return {false, std::string("cannot run `dot`: ") + std::strerror(err)};
    int status = 0, waited = 0;
    while ((waited = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    if (waited < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::remove(tmp.c_str());
        const std::string how = waited < 0          ? std::string("cannot wait for it: ") + std::strerror(errno)
                                : WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                                      : "exit status " + std::to_string(WEXITSTATUS(status));
        return {false, "`dot` failed (" + how + ")"};
    }
    if (std::rename(tmp.c_str(), picture_path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return {false, "cannot write " + picture_path + ": " + std::strerror(errno)};
    }
    return {true, ""};
}

// The notebook's version 4, line by line, with the Head's own key, query and value layers: the ops the fused op
// replaces, each a node of the graph.
ag::Tensor notebook_head(const ag::Head& head, const ag::Tensor& x) {
    const int64_t T = x.size(1);
    ag::Tensor k = head.key(x).set_name("k"), q = head.query(x).set_name("q"), v = head.value(x).set_name("v");
    ag::Tensor wei = (ag::matmul(q, k.transpose(-2, -1)) * std::pow(head.head_size, -0.5)).set_name("wei");
    wei = ag::softmax(wei.masked_fill(ag::tril(ag::ones({T, T})) == 0, -INFINITY), -1).set_name("wei");
    return ag::matmul(wei, v).set_name("out");
}

// Step 1: the loss of one Head, with its intermediate tensors named ('kqv', 'out' in the layer).
ag::Tensor head_loss(const ag::Head& head, const std::string& mode) {
    const int64_t B = 2, T = 4, C = 8;
    ag::Tensor x = ag::randn({B, T, C}).set_name("x");
    ag::Tensor targets = ag::randint(0, head.head_size, {B * T});
    ag::Tensor out = mode == "notebook" ? notebook_head(head, x) : head(x);
    return ag::cross_entropy(out.view({B * T, head.head_size}), targets).set_name("loss");
}

}  // namespace

int main(int argc, char* argv[]) {
    Options opt;
    CLI::App app{"Prints and draws the autograd graph of a self-attention Head's loss."};
    app.name(argv[0]);
    app.add_option("--mode", opt.mode,
                   "layer: the Head as it runs, one product for key, query and value, then one self_attention op; "
                   "notebook: the same head spelled as the notebook writes it: three Linear calls, q @ k^T, "
                   "masked_fill(tril == 0, -inf), softmax and @ v")
        ->check(CLI::IsMember({"layer", "notebook"}))->capture_default_str();
    app.add_option("--format", opt.format, "picture format Graphviz renders")
        ->check(CLI::IsMember({"svg", "png"}))->capture_default_str();
    app.add_option("--out", opt.out, "directory for head_graph.dot and the picture (made if missing)")
        ->type_name("DIR")->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return 0;
    } catch (const CLI::ParseError& e) {
        std::cerr << "error: " << e.what() << "\nRun with --help for usage.\n";
        return 2;
    }

    try {
        ag::manual_seed(1337);
        ag::Head head(/*n_embd=*/8, /*head_size=*/4);
        ag::Tensor loss = head_loss(head, opt.mode);
        std::cout << "loss = " << loss << "  (Head mode: " << opt.mode << ")\n\n" << ag::print_graph(loss) << "\n";

        loss.backward(ag::Tensor(), /*retain_graph=*/true);  // keep the graph to print and draw it again
        std::cout << "after loss.backward(), the parameters hold their gradients:\n" << ag::print_graph(loss) << "\n";

        std::filesystem::create_directories(opt.out);
        const std::filesystem::path dir(opt.out);
        const std::string dot_path = (dir / "head_graph.dot").string();
        const std::string picture_path = (dir / ("head_graph." + opt.format)).string();
        ag::write_text_file_atomically(dot_path, ag::to_dot(loss), "graph");
        std::cout << "wrote " << dot_path << "\n";
        const RenderResult r = render_with_graphviz(dot_path, picture_path, opt.format);
        if (r.rendered) {
            std::cout << "wrote " << picture_path << " (open it in a browser or image viewer)\n";
        } else {
            std::cout << "no picture: " << r.problem << ".\nThe DOT text is in " << dot_path
                      << "; render it later with: dot -T" << opt.format << " " << dot_path << " -o " << picture_path
                      << "\n";
        }
    } catch (const std::system_error& e) {  // --out or a file in it that cannot be written (std::filesystem's too)
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
