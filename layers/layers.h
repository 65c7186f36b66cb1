// Every layer in one include: Module, containers, Linear, Embedding, LayerNorm, activations, Dropout, Head,
// MultiHeadAttention, the lecture's GPT, losses, clipping, optimisers and their learning-rate schedules.
// Saving and loading them is io/checkpoint.h (io/io.h has all of io/).
#pragma once
#include "layers/activation.h"
#include "layers/attention.h"
#include "layers/clip_grad.h"
#include "layers/container.h"
#include "layers/dropout.h"
#include "layers/embedding.h"
#include "layers/gpt.h"
#include "layers/layer_norm.h"
#include "layers/linear.h"
#include "layers/loss.h"
#include "layers/lr_schedule.h"
#include "layers/module.h"
#include "layers/optim.h"
