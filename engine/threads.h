// How many threads the engine's loops and OpenBLAS use.
#pragma once

namespace ag {

// Sets the threads used by the engine's loops and by OpenBLAS (n >= 1); returns the previous count. Results are
// deterministic for a given count.
int set_num_threads(int n);
int num_threads();

}  // namespace ag
