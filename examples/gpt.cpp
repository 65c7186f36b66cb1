// Trains the lecture's GPT ("Let's build GPT", gpt.py), a character-level language model, on a UTF-8 text file,
// then writes text in its style.
//
//   build/examples/gpt --data input.txt     # the lecture's run on tiny-shakespeare: 10.788929 M parameters
//   make gpt                                # a small model on the fortunes corpus, a few minutes on 2 cores
//
// main runs the lecture's script, top to bottom, and prints what it prints (stdout: the parameter count, the eval
// lines, the generated text; with the same flags and text, the same numbers as PyTorch). Progress and the files
// written go to stderr.
//   1. the flags (--help lists them, with the lecture's hyperparameters as defaults);
//   2. the text: its sorted characters are the vocabulary; encoded, the first 90% trains, the rest validates;
//   3. manual_seed(seed), the model (layers/gpt.h) and AdamW; or, with --resume, all three from a checkpoint,
//      the random stream included, so the run continues exactly where it stopped. (It equals one uninterrupted run
//      when the first one stopped just after an eval step, --max-iters a multiple of --eval-interval plus 1: the
//      estimate the lecture's loop makes at its last step draws batches, as an uninterrupted run would not there.)
//   4. the training loop: at every eval_interval steps and at the last one, the mean loss of eval_iters batches per
//      split in eval mode; then a batch, forward, backward, AdamW;
//   5. --save (the checkpoint), --log (the loss of every step), the loss plot;
//   6. generate max_new_tokens characters from a context of one token 0, in training mode as the lecture does
//      (with dropout, its masks are drawn too).
// Exit codes: 0 done, 1 the training failed (a non-finite loss), 2 a bad flag, file or checkpoint.
#include <iostream>
#include <system_error>

#include "examples/support/gpt_trainer.h"

using namespace trainer;

int main(int argc, char* argv[]) {
    try {
        const ParsedGPTOptions parsed = parse_gpt_options(argc, argv);
        if (!parsed.run) {
            (parsed.exit_code == 0 ? std::cout : std::cerr) << parsed.message;
            return parsed.exit_code;
        }
        return run_gpt(parsed.options, stdout, stderr);
    } catch (const InputError& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    } catch (const std::system_error& e) {  // a file or directory the system refused
        std::cerr << "error: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
