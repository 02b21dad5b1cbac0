// Runs a function on its own thread at a fixed interval until destroyed
// (reservation expiry in IMS, saga recovery in OPS).
#ifndef SHOP_CORE_PERIODIC_H_
#define SHOP_CORE_PERIODIC_H_

#include <functional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace shop {

class PeriodicTask {
 public:
  // Runs `fn` once right away, then every `interval`.
  PeriodicTask(absl::Duration interval, std::function<void()> fn)
      : interval_(interval), fn_(std::move(fn)), thread_([this] { Run(); }) {}
  ~PeriodicTask() {
    stop_.Notify();
    thread_.join();
  }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

 private:
  void Run() {
    do {
      fn_();
    } while (!stop_.WaitForNotificationWithTimeout(interval_));
  }
  absl::Duration interval_;
  std::function<void()> fn_;
  absl::Notification stop_;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace shop

#endif  // SHOP_CORE_PERIODIC_H_
