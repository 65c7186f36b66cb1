#include "io/checkpoint.h"

#include <set>
#include <stdexcept>
#include <vector>

#include "engine/autograd.h"

namespace ag {

namespace {

// Optimiser state is stored beside the parameters under this prefix, so the two can never collide.
const std::string kOptimizerPrefix = "optimizer.";

// What a checkpoint holds for this model (and optimiser), under the names it has in the file. The handles are the
// live parameters and buffers, so copying into them loads the checkpoint.
NamedTensors checkpoint_tensors(const Module& model, Optimizer* optimizer) {
    NamedTensors tensors = model.named_parameters();
    if (optimizer)
        for (auto& [name, t] : optimizer->state()) tensors.emplace_back(kOptimizerPrefix + name, t);
    return tensors;
}

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
    throw std::invalid_argument("load_checkpoint: " + problem + " (file '" + path + "')");
}

// "tensor 'a'" or "tensors 'a', 'b'".
std::string tensor_list(const std::vector<std::string>& names) {
    std::string out = names.size() == 1 ? "tensor " : "tensors ";
    for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", '" : "'") + names[i] + "'";
    return out;
}

bool is_optimizer_state(const std::string& name) { return name.rfind(kOptimizerPrefix, 0) == 0; }

// Every target has a tensor of its shape and dtype in the file, and the file holds nothing else (but optimiser
// state when no optimiser is loaded). Throws naming the first mismatch, all missing or all unexpected tensors.
void check_match(const NamedTensors& targets, const SafetensorsFile& file, bool skip_optimizer_state,
                 const std::string& path) {
    std::map<std::string, Tensor> found(file.tensors.begin(), file.tensors.end());  // names are unique in a file
    std::vector<std::string> missing;
    std::set<std::string> wanted;
    for (const auto& [name, dst] : targets) {
        wanted.insert(name);
        auto it = found.find(name);
        if (it == found.end()) {
            missing.push_back(name);
            continue;
        }
        const Tensor& src = it->second;
        const std::string owner = is_optimizer_state(name) ? "optimizer" : "model";
        if (src.shape() != dst.shape())
            fail(path, "'" + name + "' has shape " + shape_str(src.shape()) + " in the file but " +
                           shape_str(dst.shape()) + " in the " + owner);
        if (src.dtype() != dst.dtype())
            fail(path, "'" + name + "' has dtype " + dtype_name(src.dtype()) + " in the file but " +
                           dtype_name(dst.dtype()) + " in the " + owner);
    }
    if (!missing.empty()) fail(path, "missing " + tensor_list(missing));
    std::vector<std::string> extra;
    for (const auto& named : file.tensors)
        if (!wanted.count(named.first) && !(skip_optimizer_state && is_optimizer_state(named.first)))
            extra.push_back(named.first);
    if (!extra.empty())
        fail(path, "unexpected " + tensor_list(extra) + " (not in the model" +
                       (skip_optimizer_state ? ")" : " or the optimizer)"));
}

}  // namespace

void save_checkpoint(const std::string& path, const Module& model, Optimizer* optimizer,
                     const std::map<std::string, std::string>& metadata) {
    save_safetensors(path, checkpoint_tensors(model, optimizer), metadata);
}

void load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer) {
    // Everything is read into fresh tensors and checked before the first write, so a bad file changes nothing.
    const SafetensorsFile file = load_safetensors(path);
    NamedTensors targets = checkpoint_tensors(model, optimizer);
    check_match(targets, file, optimizer == nullptr, path);
    std::map<std::string, Tensor> found(file.tensors.begin(), file.tensors.end());
    NoGradGuard no_grad;  // parameters require grad; writing into them is an update, not part of any graph
    for (auto& [name, dst] : targets) dst.copy_(found.at(name));
}

}  // namespace ag
