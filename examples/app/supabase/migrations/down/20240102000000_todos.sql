drop table public.todos;
