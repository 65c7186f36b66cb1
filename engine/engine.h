// The whole engine in one include: tensors, ops, autograd, random numbers, gradcheck, threads.
#pragma once
#include "engine/autograd.h"
#include "engine/gradcheck.h"
#include "engine/graph_dump.h"
#include "engine/ops.h"
#include "engine/random.h"
#include "engine/tensor.h"
#include "engine/threads.h"
