// The chargen UI page: renders what the server reads from the workspace. Text from the workspace is only ever set
// with textContent (never parsed as HTML): prompts, paths and reasons are data, not markup.
//
// Split into ES modules by role (page.js: shared state and helpers; actions.js; queue-view.js; gallery-view.js): this
// file wires them to the page. The server serves each module by name (pipeline/ui/route-ui-reads.ts).
import { startRun } from './actions.js';
import { loadMore, reloadGallery } from './gallery-view.js';
import { byId, page } from './page.js';
import { connect, tickElapsed, updateTitle } from './queue-view.js';
import { setUpRegenerate } from './regenerate-view.js';
import { setUpVersions } from './versions-view.js';

function showView() {
  const gallery = location.hash === '#gallery';
  byId('queue').hidden = gallery;
  byId('gallery').hidden = !gallery;
  byId('nav-queue').classList.toggle('active', !gallery);
  byId('nav-gallery').classList.toggle('active', gallery);
  if (gallery && page.gallery.items.length === 0) void reloadGallery();
}

function setUp() {
  window.addEventListener('hashchange', showView);
  showView();
  for (const button of document.querySelectorAll('.filter')) {
    button.addEventListener('click', () => {
      for (const other of document.querySelectorAll('.filter')) other.classList.toggle('active', other === button);
      page.gallery.status = button.dataset.status;
      void reloadGallery();
    });
  }
  new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting) && !byId('gallery').hidden) void loadMore();
  }, { rootMargin: '600px' }).observe(byId('grid-end'));

  byId('gallery-changed').addEventListener('click', () => {
    window.scrollTo(0, 0);
    void reloadGallery();
  });
  byId('run-all').addEventListener('click', () => void startRun(undefined, 'Bring everything up to date?'));
  byId('run-from-button').addEventListener('click', () => {
    const from = byId('run-from').value;
    void startRun(from, `Rerun from ${from}?`);
  });
  byId('retry-dead').addEventListener('click', () => void startRun(undefined, 'Retry the retryable failures?'));

  const notifyButton = byId('notify');
  if ('Notification' in window && Notification.permission === 'default') {
    notifyButton.hidden = false;
    notifyButton.addEventListener('click', async () => {
      await Notification.requestPermission();
      notifyButton.hidden = Notification.permission !== 'default';
    });
  }
  // The title shows a finished job until the page is looked at again.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && page.baseTitle.startsWith('✓') && page.queue) {
      page.baseTitle = 'chargen';
      updateTitle(page.queue, undefined);
    }
  });
  setUpRegenerate();
  // A chosen version is the tile's image now (known by its request): the gallery is read again.
  setUpVersions({ onChosen: () => void reloadGallery() });
  setInterval(tickElapsed, 1000);
  connect();
}

setUp();
