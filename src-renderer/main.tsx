/** Console entry: builds the services, connects, renders. */
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { createServices } from './app/services';
import './styles.css';

const services = createServices();
createRoot(document.getElementById('root')!).render(<App services={services} />);
void services.init();
