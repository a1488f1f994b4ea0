#ifndef SP_sign_H
#define SP_sign_H
typedef int sp_sign_placeholder;
#endif
