/* stub */
#include "x87_float_int.h"
bool fx80_sin(floatx80 a, floatx80 *r, struct fx80_env *e) { (void)a; *r = fx_invalid(e); return true; }
bool fx80_cos(floatx80 a, floatx80 *r, struct fx80_env *e) { (void)a; *r = fx_invalid(e); return true; }
bool fx80_sincos(floatx80 a, floatx80 *s, floatx80 *c, struct fx80_env *e) { (void)a; *s = *c = fx_invalid(e); return true; }
bool fx80_tan(floatx80 a, floatx80 *r, struct fx80_env *e) { (void)a; *r = fx_invalid(e); return true; }
floatx80 fx80_atan2(floatx80 y, floatx80 x, struct fx80_env *e) { (void)x; (void)y; return fx_invalid(e); }
floatx80 fx80_f2xm1(floatx80 a, struct fx80_env *e) { (void)a; return fx_invalid(e); }
floatx80 fx80_yl2x(floatx80 x, floatx80 y, struct fx80_env *e) { (void)x; (void)y; return fx_invalid(e); }
floatx80 fx80_yl2xp1(floatx80 x, floatx80 y, struct fx80_env *e) { (void)x; (void)y; return fx_invalid(e); }
