// Containers of layers, named as in PyTorch: their children are "0", "1", "2", ... so a parameter's name reads
// "blocks.0.sa.proj.weight", the lecture's state_dict key.
//
//   ModuleList<Head> heads;              // torch.nn.ModuleList: an indexed list, no forward of its own
//   heads.append<Head>(C, head_size);    // built in place, in order (so the draws of its init come in order)
//   Sequential net;                      // torch.nn.Sequential: forward runs its layers one after another
//   net.append<Linear>(C, 4 * C);
//   net.append<ReLU>();
// Register the container in its parent after filling it: register_module names what it holds at that time.
#pragma once
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "layers/module.h"

namespace ag {

// Base is Module for a plain list; Sequential is a list of Layers that is itself a Layer.
template <typename Item, typename Base = Module>
class ModuleList : public Base {
public:
    ModuleList() { this->members_built(); }  // a list has no members of its own; its items come by append
    // count Items, each built from the same args, in order: [Head(C, hs) for _ in range(count)].
    template <typename... Args>
    explicit ModuleList(int64_t count, const Args&... args) {
        this->members_built();
        for (int64_t i = 0; i < count; ++i) append(args...);
    }

    // Builds an Item from args at the end of the list, registered as the next index; returns it.
    template <typename T = Item, typename... Args>
    T& append(Args&&... args) {
        static_assert(std::is_base_of_v<Item, T>, "ModuleList: append an Item or a type derived from it");
        auto item = std::make_unique<T>(std::forward<Args>(args)...);
        T& ref = *item;
        this->register_module(std::to_string(items_.size()), ref);
        items_.push_back(std::move(item));
        return ref;
    }

    int64_t size() const { return static_cast<int64_t>(items_.size()); }
    bool empty() const { return items_.empty(); }
    // The i-th item; throws std::out_of_range unless 0 <= i < size().
    Item& operator[](int64_t i) const {
        if (i < 0 || i >= size())
            throw std::out_of_range("ModuleList: index " + std::to_string(i) + " out of range for a list of " +
                                    std::to_string(size()));
        return *items_[static_cast<size_t>(i)];
    }

    // Range-for over the items themselves: for (Head& h : heads).
    struct Iterator {
        typename std::vector<std::unique_ptr<Item>>::const_iterator it;
        Item& operator*() const { return **it; }
        Iterator& operator++() { ++it; return *this; }
        bool operator!=(const Iterator& other) const { return it != other.it; }
    };
    Iterator begin() const { return {items_.begin()}; }
    Iterator end() const { return {items_.end()}; }

private:
    std::vector<std::unique_ptr<Item>> items_;
};

// Layers applied in order: forward(x) = layer_{n-1}( ... layer_1(layer_0(x))). An empty Sequential is the identity.
// A Linear followed by a ReLU (exactly those classes) runs as one op, Linear::forward_relu: the same values and
// gradients, without the tensor between them.
class Sequential : public ModuleList<Layer, Layer> {
public:
    Tensor forward(const Tensor& x) const override;
};

}  // namespace ag
