// The graph of a self-attention Head's loss: printed as the tape backward walks, and drawn with Graphviz.
//
//   build/examples/graph                      # writes head_graph.dot and, with graphviz installed, head_graph.svg
//   build/examples/graph --mode notebook      # the notebook's masked_fill + softmax instead of the fused op
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
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include "engine/engine.h"
#include "layers/atomic_file.h"
#include "layers/layers.h"

extern char** environ;

namespace {

struct Options {
    std::string mode = "fused";  // fused | notebook | flash: how the Head computes its attention
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

// Step 1: the loss of one Head, with its intermediate tensors named by Head::forward.
ag::Tensor head_loss(ag::Head& head) {
    const int64_t B = 2, T = 4, C = 8;
    ag::Tensor x = ag::randn({B, T, C}).set_name("x");
    ag::Tensor targets = ag::randint(0, head.head_size, {B * T});
    ag::Tensor logits = head(x).view({B * T, head.head_size});
    return ag::cross_entropy(logits, targets).set_name("loss");
}

}  // namespace

int main(int argc, char* argv[]) {
    Options opt;
    CLI::App app{"Prints and draws the autograd graph of a self-attention Head's loss."};
    app.name(argv[0]);
    app.add_option("--mode", opt.mode,
                   "fused: one product for key, query and value, then one causal_softmax op; notebook: three Linear "
                   "calls, then masked_fill(tril == 0, -inf) and softmax; "
                   "flash: the one product, then one causal_self_attention op")
        ->check(CLI::IsMember({"fused", "notebook", "flash"}))->capture_default_str();
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
        head.fused = opt.mode != "notebook";
        head.flash = opt.mode == "flash";
        ag::Tensor loss = head_loss(head);
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
