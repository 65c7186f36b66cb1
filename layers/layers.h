// Every layer in one include.
#pragma once
#include "layers/attention.h"
#include "layers/embedding.h"
#include "layers/linear.h"
#include "layers/module.h"
