// Checkpoints: a model's parameters, and optionally its optimiser's state, in one safetensors file.
//
//   ag::save_checkpoint("model.safetensors", model, &opt, {{"step", "5000"}});
//   ag::load_checkpoint("model.safetensors", model, &opt);
// Parameters are stored under their Module names ("key.weight"), so the file opens in Python as the model's
// state_dict (safetensors.torch.load_file); optimiser state under "optimizer." + its state name
// ("optimizer.exp_avg.key.weight", "optimizer.step").
#pragma once
#include <map>
#include <string>

#include "layers/module.h"
#include "layers/optim.h"
#include "io/safetensors.h"

namespace ag {

// Writes model's parameters (and optimizer's state, if given) to `path` atomically (see save_safetensors), with
// `metadata` in the header. Throws as save_safetensors does: std::invalid_argument for two tensors with one name,
// std::system_error (a std::runtime_error) when the file cannot be written, in which case `path` keeps its old
// contents.
void save_checkpoint(const std::string& path, const Module& model, Optimizer* optimizer = nullptr,
                     const std::map<std::string, std::string>& metadata = {});

// Reads `path` into model's parameters (and optimizer's state, if given). All or nothing: the file is read and
// checked in full first, and the values are copied in only if every tensor is there with the model's shape and
// dtype and the file holds no other tensor ("optimizer." tensors are skipped when no optimizer is given, so a
// training checkpoint loads for inference). Throws std::invalid_argument naming the file and the problem (a
// malformed file, see load_safetensors; a missing, mis-shaped or unexpected tensor), leaving model and optimizer
// untouched.
void load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer = nullptr);

}  // namespace ag
