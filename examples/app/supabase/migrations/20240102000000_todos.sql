create table public.todos (
  id bigint generated always as identity primary key,
  owner uuid not null references public.profiles (id) on delete cascade,
  title text not null,
  done boolean not null default false
);
alter table public.todos enable row level security;
create policy "owners manage their todos" on public.todos for all using (auth.uid() = owner);
grant select, insert, update, delete on public.todos to authenticated;
