#ifndef SP_http_H
#define SP_http_H
typedef int sp_http_placeholder;
#endif
