#ifndef SP_json_H
#define SP_json_H
typedef int sp_json_placeholder;
#endif
