// Every layer in one include.
#pragma once
#include "layers/attention.h"
#include "layers/checkpoint.h"
#include "layers/clip_grad.h"
#include "layers/embedding.h"
#include "layers/linear.h"
#include "layers/loss.h"
#include "layers/module.h"
#include "layers/optim.h"
