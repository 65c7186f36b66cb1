// Every layer in one include: Module, Linear, Embedding, Head, MultiHeadAttention, losses, clipping, optimisers.
// Saving and loading them is io/checkpoint.h (io/io.h has all of io/).
#pragma once
#include "layers/attention.h"
#include "layers/clip_grad.h"
#include "layers/embedding.h"
#include "layers/linear.h"
#include "layers/loss.h"
#include "layers/module.h"
#include "layers/optim.h"
