// Files: checkpoints of a model and its optimiser (checkpoint.h), the safetensors format they are written in
// (safetensors.h), and writing a file so that it is never seen half-written (atomic_file.h).
#pragma once
#include "io/atomic_file.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"
