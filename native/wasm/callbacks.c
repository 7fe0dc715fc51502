/* libsecp256k1's default callbacks print and abort, which would pull WASI imports into the module.
 * Illegal-argument callbacks are our bugs and make the call fail; an internal error traps, which
 * surfaces as a JS exception instead of a dead process. */
void secp256k1_default_illegal_callback_fn(const char *str, void *data) {
  (void)str;
  (void)data;
}

void secp256k1_default_error_callback_fn(const char *str, void *data) {
  (void)str;
  (void)data;
  __builtin_trap();
}
