// /admin/categories — admins list, create and edit categories. The API lists active ones only,
// so a category switched off here leaves the list (turning it back on needs its id).
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, unwrap } from '../api/client.ts';
import { useSession } from '../api/session.ts';
import type { components } from '../api/schema.ts';
import { RequireSignIn } from '../auth/RequireSignIn.tsx';
import { ErrorMessage, Loading } from '../layout/Status.tsx';
import '../live.css';

type Category = components['schemas']['Category'];
interface CategoryFields {
  name: string;
  slug?: string;
  description: string;
  tags: string[];
  isActive?: boolean;
}

const useAllCategories = () =>
  useQuery({ queryKey: ['categories', 'admin'], queryFn: () => unwrap(api.GET('/api/v1/categories', { params: { query: { limit: 100 } } })) });

function fieldsOf(form: HTMLFormElement): CategoryFields {
  const data = new FormData(form);
  const slug = String(data.get('slug') ?? '').trim();
  const active = form.querySelector<HTMLInputElement>('input[name="isActive"]');
  return {
    name: String(data.get('name')).trim(),
    ...(slug ? { slug } : {}),
    description: String(data.get('description') ?? ''),
    tags: String(data.get('tags') ?? '')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
    ...(active ? { isActive: active.checked } : {}),
  };
}

function CategoryForm({ category, onSubmit, pending, submitLabel }: { category?: Category; onSubmit: (fields: CategoryFields, form: HTMLFormElement) => void; pending: boolean; submitLabel: string }) {
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    onSubmit(fieldsOf(e.currentTarget), e.currentTarget);
  };
  return (
    <form onSubmit={submit} className="narrow">
      <label>
        Name
        <input name="name" required maxLength={60} defaultValue={category?.name} />
      </label>
      <label>
        Slug
        <input name="slug" pattern="[a-z0-9-]+" defaultValue={category?.slug} aria-describedby="slug-hint" />
      </label>
      <span id="slug-hint" className="hint">
        Lowercase letters, digits and dashes; made from the name when left empty.
      </span>
      <label>
        Description
        <textarea name="description" rows={2} defaultValue={category?.description} />
      </label>
      <label>
        Tags (comma separated)
        <input name="tags" defaultValue={category?.tags.join(', ')} />
      </label>
      {category && (
        <label className="inline">
          <input name="isActive" type="checkbox" defaultChecked={category.isActive} /> Active
        </label>
      )}
      <button type="submit" disabled={pending}>
        {submitLabel}
      </button>
    </form>
  );
}

function EditCategory({ category, onDone }: { category: Category; onDone: () => void }) {
  const client = useQueryClient();
  const save = useMutation({
    mutationFn: (body: CategoryFields) => unwrap(api.PATCH('/api/v1/categories/{id}', { params: { path: { id: category.id } }, body })),
    onSuccess: onDone,
    onSettled: () => client.invalidateQueries({ queryKey: ['categories'] }),
  });
  return (
    <>
      <CategoryForm category={category} onSubmit={(fields) => save.mutate(fields)} pending={save.isPending} submitLabel={`Save ${category.name}`} />
      {save.isError && <ErrorMessage error={save.error} />}
    </>
  );
}

function Categories() {
  const list = useAllCategories();
  const client = useQueryClient();
  const [editing, setEditing] = useState<string>();
  const create = useMutation({
    mutationFn: (body: CategoryFields) => unwrap(api.POST('/api/v1/categories', { body })),
    onSettled: () => client.invalidateQueries({ queryKey: ['categories'] }),
  });
  return (
    <>
      <h2>New category</h2>
      <CategoryForm onSubmit={(fields, form) => create.mutate(fields, { onSuccess: () => form.reset() })} pending={create.isPending} submitLabel="Create category" />
      {create.isError && <ErrorMessage error={create.error} />}
      <h2>Categories</h2>
      {list.isPending ? (
        <Loading />
      ) : list.isError ? (
        <ErrorMessage error={list.error} />
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Slug</th>
              <th scope="col">Tags</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((c) => (
              <tr key={c.id}>
                {editing === c.id ? (
                  <td colSpan={4}>
                    <EditCategory category={c} onDone={() => setEditing(undefined)} />
                    <button type="button" className="secondary" onClick={() => setEditing(undefined)}>
                      Cancel
                    </button>
                  </td>
                ) : (
                  <>
                    <td>{c.name}</td>
                    <td>{c.slug}</td>
                    <td>{c.tags.join(', ')}</td>
                    <td>
                      <button type="button" className="small secondary" onClick={() => setEditing(c.id)} aria-label={`Edit ${c.name}`}>
                        Edit
                      </button>
                    </td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

export default function AdminCategories() {
  const role = useSession()?.user.role;
  return (
    <RequireSignIn>
      <h1>Categories</h1>
      {role === 'admin' ? <Categories /> : <p className="error">Only administrators manage categories.</p>}
    </RequireSignIn>
  );
}
